import '../../src/storage/drivers/overlay/index.js';
import { runStorageDriverSuite } from './storage-driver-suite.js';

runStorageDriverSuite('overlay');

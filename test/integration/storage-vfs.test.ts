import '../../src/storage/drivers/vfs/index.js';
import { runStorageDriverSuite } from './storage-driver-suite.js';

runStorageDriverSuite('vfs');

// Loading this module registers every storage driver; each registers itself from its own folder.
import './overlay/index.js';
import './vfs/index.js';

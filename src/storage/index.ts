export { openDatabase, openStorage, Database, Database as Storage, StorageError, redactUrl } from './database.js';
export { ExtensionRepo, extensionRecordFromConfig } from './extension-repo.js';
export type { ExtensionRecord, StoredExtension } from './extension-repo.js';
export { LocationRepo } from './location-repo.js';
export { CdrRepo, CDR_DISPOSITIONS, AMA_FLAGS } from './cdr-repo.js';
export type { Cdr, CdrInput, CdrQuery, CdrDisposition, AmaFlags } from './cdr-repo.js';
export type { StoredBinding, LocationPersistence } from './location-types.js';

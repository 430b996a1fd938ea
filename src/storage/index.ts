export { openDatabase, Database, StorageError, redactUrl } from './database.js';
export { ExtensionRepo, extensionRecordFromConfig } from './extension-repo.js';
export type { ExtensionRecord, StoredExtension } from './extension-repo.js';
export { LocationRepo } from './location-repo.js';
export { CdrRepo, CDR_DISPOSITIONS } from './cdr-repo.js';
export type { Cdr, CdrInput, CdrQuery, CdrDisposition, AmaFlags } from './cdr-repo.js';
export type { StoredBinding, LocationPersistence } from './location-types.js';

export { checkSecret, MIN_SECRET_LENGTH, MIN_SECRET_SCORE } from './check-secret.js';
export type { SecretContext, SecretKind, SecretVerdict } from './check-secret.js';
export { generateSecret, generatePin } from './generate-secret.js';

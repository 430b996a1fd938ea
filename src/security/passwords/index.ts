export { checkSecret, MIN_SECRET_LENGTH, MIN_SECRET_SCORE } from './check-secret.js';
export type { SecretContext, SecretKind, SecretVerdict } from './check-secret.js';
export { generateSecret, generatePin } from './generate-secret.js';
export { checkPin, DEFAULT_PIN_MIN_LENGTH } from './check-pin.js';
export type { PinPolicy, PinVerdict } from './check-pin.js';
export { checkAdminPassword } from './check-admin-password.js';
export type { AdminPasswordVerdict } from './check-admin-password.js';

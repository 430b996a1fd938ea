// What an extension's fields must look like, shared by the API's schemas
// (routes-extensions.ts), the console's forms (GET /extensions/rules) and
// `palisade import` (site-files.ts), which must not load the schema library.
export const EXTENSION_RULES = {
  number: { pattern: '^[0-9]{1,15}$', message: '1-15 digits' },
  name: { pattern: '^[^"\\\\\\x00-\\x1f]{0,80}$', message: 'up to 80 characters, no quotes or control characters' },
  context: { pattern: '^[A-Za-z0-9_-]{1,80}$', message: 'a dialplan context: letters, digits, _ -' },
  email: { pattern: '^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$', message: 'an e-mail address' },
};

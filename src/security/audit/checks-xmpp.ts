// The chat server's authentication link (docs/operations.md, "Chat: Prosody
// beside Palisade"): Prosody checks every chat login against Palisade with
// SASL PLAIN, so the password travels twice — client to Prosody, Prosody to
// Palisade. Both legs must be protected: Prosody must require TLS on c2s and
// never allow PLAIN without it, and must reach Palisade over its Unix socket,
// not over TCP (mod_auth_dovecot's TCP link is plaintext).
import type { AuditCheck, Finding } from './audit-types.js';

/** `name = value` of a Prosody (Lua) config, the last one outside comments; undefined when unset */
function option(text: string, name: string): string | undefined {
  let out: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.replace(/--.*$/, '').trim();
    const m = new RegExp(`^${name}\\s*=\\s*(.+?);?$`).exec(line);
    if (m) out = m[1]!.trim().replace(/^["']|["']$/g, '');
  }
  return out;
}

export const xmppAuthLink: AuditCheck = {
  id: 'xmpp-auth-link',
  title: 'chat (Prosody) logins: TLS required, no plaintext password on the way to Palisade',
  run(input) {
    const p = input.prosody;
    if (!p) return { status: 'not-installed', why: 'no xmpp section: Palisade serves no chat logins', fix: 'nothing to do unless Prosody is to use Palisade accounts' };
    if (!p.path) return { status: 'unknown', why: 'xmpp.prosody_config is not set', fix: "set xmpp.prosody_config to Prosody's configuration file so the audit can read it" };
    if (p.text === null)
      return { status: 'unknown', why: `cannot read ${p.path}`, fix: 'let the audit read the Prosody configuration (run it as root or as a member of the prosody group)' };
    const out: Finding[] = [];
    const t = p.text;
    if (option(t, 'c2s_require_encryption') === 'false') {
      out.push({
        id: 'xmpp-auth-link',
        severity: 'high',
        what: `${p.path}: c2s_require_encryption = false lets chat clients log in without TLS`,
        fix: 'remove it (Prosody requires TLS by default) or set c2s_require_encryption = true',
      });
    }
    if (option(t, 'allow_unencrypted_plain_auth') === 'true') {
      out.push({
        id: 'xmpp-auth-link',
        severity: 'critical',
        what: `${p.path}: allow_unencrypted_plain_auth = true sends phone passwords in clear text`,
        fix: 'remove allow_unencrypted_plain_auth (false by default)',
      });
    }
    const auth = option(t, 'authentication');
    if (auth !== 'dovecot') {
      out.push({
        id: 'xmpp-auth-link',
        severity: 'medium',
        what: `${p.path}: authentication is ${auth ?? 'unset (internal_hashed)'}, not Palisade's link: chat accounts and passwords are kept apart from the phone's`,
        fix: 'set authentication = "dovecot" and dovecot_auth_socket to xmpp.auth_socket',
      });
    }
    const host = option(t, 'dovecot_auth_port') !== undefined ? (option(t, 'dovecot_auth_host') ?? '127.0.0.1') : undefined;
    if (host !== undefined) {
      out.push({
        id: 'xmpp-auth-link',
        severity: host === '127.0.0.1' || host === '::1' || host === 'localhost' ? 'medium' : 'critical',
        what: `${p.path}: Prosody sends passwords to ${host} over TCP in clear text (dovecot_auth_port)`,
        fix: 'remove dovecot_auth_host/dovecot_auth_port and set dovecot_auth_socket to xmpp.auth_socket (a Unix socket)',
      });
    } else if (auth === 'dovecot' && p.authSocket && option(t, 'dovecot_auth_socket') !== p.authSocket) {
      out.push({
        id: 'xmpp-auth-link',
        severity: 'medium',
        what: `${p.path}: dovecot_auth_socket is ${option(t, 'dovecot_auth_socket') ?? 'unset'}, not Palisade's ${p.authSocket}`,
        fix: `set dovecot_auth_socket = "${p.authSocket}"`,
      });
    }
    return out;
  },
};

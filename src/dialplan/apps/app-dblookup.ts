// DBLookup(VAR=query[,arg1[,arg2...]]) — run a named, read-only query that
// the administrator defined in the YAML (dialplan.queries) and put the
// first row into VAR (one column: its value; several: the values joined by
// commas, as func_odbc) and each column into VAR_<column>. The arguments
// — caller input included — are only ever bound to the query's '?'
// placeholders, never pasted into SQL text. Sets DBLOOKUPSTATUS to FOUND,
// NOTFOUND or ERROR; an error never ends the call.
//
//   exten => 100,n,DBLookup(FIGURE=student_attendance,${ID},${PIN})
//    same => n,GotoIf($["${DBLOOKUPSTATUS}" = "FOUND"]?ok:wrong)
import type { DialplanApp } from '../app-types.js';

export const appDbLookup: DialplanApp = {
  name: 'DBLookup',
  synopsis: 'DBLookup(VAR=query[,arg...]): read-only, parameterised database look-up',
  placesNoCall: true,
  sensitiveArgs: true,
  async run(call, args) {
    const first = args[0] ?? '';
    const eq = first.indexOf('=');
    const variable = eq > 0 ? first.slice(0, eq).trim() : '';
    const query = eq > 0 ? first.slice(eq + 1).trim() : '';
    call.vars.delete('DBLOOKUPERROR');
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(variable) || query === '') {
      call.log.warn('dialplan.dblookup_syntax', { expected: 'DBLookup(VAR=query,arg...)' });
      call.vars.set('DBLOOKUPSTATUS', 'ERROR');
      return;
    }
    call.vars.set(variable, '');
    if (!call.datasources) {
      call.vars.set('DBLOOKUPSTATUS', 'ERROR');
      call.vars.set('DBLOOKUPERROR', 'no data sources are configured (dialplan.datasources)');
      return;
    }
    const r = await call.datasources.lookup(query, args.slice(1));
    call.vars.set('DBLOOKUPSTATUS', r.status);
    if (r.status === 'ERROR') {
      call.vars.set('DBLOOKUPERROR', r.error ?? 'error');
      // a database error may quote a bound value (a PIN, an ID): digits are masked
      call.log.warn('dialplan.dblookup_error', { query, reason: (r.error ?? '').replace(/[0-9]/g, '#') });
      return;
    }
    if (r.status === 'FOUND') {
      call.vars.set(variable, r.values.join(','));
      for (const [i, c] of r.columns.entries()) call.vars.set(`${variable}_${c}`, r.values[i] ?? '');
    }
  },
};

// The applications Palisade ships, put in each DialplanRegistry
// (../dialplan-registry.ts). Modules (voicemail, queues) add theirs there.
import type { DialplanApp } from '../app-types.js';
import { appAnswer } from './app-answer.js';
import { appHangup } from './app-hangup.js';
import { appPlayback } from './app-playback.js';
import { appBackground } from './app-background.js';
import { appRead } from './app-read.js';
import { appSayDigits, appSayNumber } from './app-say.js';
import { appWait } from './app-wait.js';
import { appEcho } from './app-echo.js';
import { appWaitExten } from './app-waitexten.js';
import { appGoto, appGotoIf } from './app-goto.js';
import { appGotoIfTime } from './app-gotoiftime.js';
import { appSet } from './app-set.js';
import { appLog, appNoOp, appVerbose } from './app-noop.js';
import { appDial } from './app-dial.js';
import { appRecord } from './app-record.js';
import { appMixMonitor, appStopMixMonitor } from './app-mixmonitor.js';
import { appConfBridge } from './app-confbridge.js';
import { appMusicOnHold } from './app-musiconhold.js';
import { appProgress, appRinging } from './app-progress.js';
import { appDbLookup } from './app-dblookup.js';
import { appGosub, appReturn } from './app-gosub.js';
import { appExecIf } from './app-execif.js';
import { appAuthenticate } from './app-authenticate.js';
import { appReportAuthFailure } from './app-reportauthfailure.js';

export const BUILTIN_APPS: readonly DialplanApp[] = [
  appAnswer,
  appHangup,
  appPlayback,
  appBackground,
  appRead,
  appSayDigits,
  appSayNumber,
  appWait,
  appEcho,
  appWaitExten,
  appGoto,
  appGotoIf,
  appGotoIfTime,
  appGosub,
  appReturn,
  appExecIf,
  appSet,
  appNoOp,
  appVerbose,
  appLog,
  appDial,
  appRecord,
  appMixMonitor,
  appStopMixMonitor,
  appConfBridge,
  appMusicOnHold,
  appProgress,
  appRinging,
  appDbLookup,
  appAuthenticate,
  appReportAuthFailure,
];

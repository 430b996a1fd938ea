// The prompt names the voicemail applications play. The media engine's
// prompt generator (espeak-ng at install) must produce each of these; the
// text is what it should say. Administrators override any of them with a
// recording of the same name in the prompt folder.
export const PROMPTS = {
  thePersonAt: 'vm-theperson', // "The person at extension"
  isUnavailable: 'vm-isunavail', // "is unavailable."
  isOnPhone: 'vm-isonphone', // "is on the phone."
  leaveMessage: 'vm-intro', // "Please leave your message after the tone. When done, hang up or press the pound key."
  mailboxFull: 'vm-mailboxfull', // "The mailbox is full and cannot accept messages."
  messageSaved: 'vm-msgsaved', // "Your message has been saved."
  login: 'vm-login', // "Mailbox?"
  password: 'vm-password', // "Password?"
  invalid: 'invalid', // "Invalid."
  goodbye: 'goodbye', // "Goodbye."
  youHave: 'vm-youhave', // "You have"
  newWord: 'vm-new', // "new"
  oldWord: 'vm-old', // "old"
  and: 'vm-and', // "and"
  no: 'vm-no', // "no"
  messages: 'vm-messages', // "messages"
  message: 'vm-message', // "message" (also before a message's number)
  menu: 'vm-menu', // "Press 1 to listen, 4 for the previous message, 6 for the next, 7 to delete, 9 to save, 0 for mailbox options, star for help, pound to exit."
  first: 'vm-first', // "first" (before vm-message: "first message")
  last: 'vm-last', // "last" (before vm-message: "last message")
  noMore: 'vm-nomore', // "No more messages."
  deleted: 'vm-deleted', // "Message deleted."
  saved: 'vm-saved', // "Message saved."
  options: 'vm-options', // "Press 1 to record your unavailable message, 2 your busy message, 3 your name, 5 to change your password, star to return to the main menu."
  recordUnavailable: 'vm-rec-unavail', // "After the tone, say your unavailable message, then press pound."
  recordBusy: 'vm-rec-busy', // "After the tone, say your busy message, then press pound."
  recordName: 'vm-rec-name', // "After the tone, say your name, then press pound."
  greetingSaved: 'vm-greetingsaved', // "Your greeting has been saved."
  newPassword: 'vm-newpassword', // "Please enter your new password followed by the pound key."
  reenterPassword: 'vm-reenterpassword', // "Please re-enter your password followed by the pound key."
  mismatch: 'vm-mismatch', // "The passwords you entered do not match."
  weakPassword: 'vm-weakpassword', // "That password is too easy to guess. Avoid runs like 1 2 3 4, repeated digits and your mailbox number."
  passwordChanged: 'vm-passchanged', // "Your password has been changed."
} as const;

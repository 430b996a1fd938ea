// Passwords that appear at the top of every public breach corpus (RockYou,
// the SecLists "10k most common", NCSC's PwnedPasswords top 100k) plus the
// defaults shipped by PBX distributions and desk phones. A secret equal to one
// of these — after lower-casing, undoing common l33t substitutions and
// stripping a trailing number or symbol — is rejected outright; a secret that
// merely contains one (length >= 4) gets little credit for that part in the
// strength estimate. Written out by hand: no data file to ship or load.
const WORDS = `
123456 password 12345678 qwerty 123456789 12345 1234 111111 1234567 dragon
123123 baseball abc123 football monkey letmein 696969 shadow master 666666
qwertyuiop 123321 mustang 1234567890 michael 654321 superman 1qaz2wsx 7777777
121212 000000 qazwsx 123qwe killer trustno1 jordan jennifer zxcvbnm asdfgh
hunter buster soccer harley batman andrew tigger sunshine iloveyou 2000
charlie robert thomas hockey ranger daniel starwars klaster 112233 george
computer michelle jessica pepper 1111 zxcvbn 555555 11111111 131313 freedom
777777 pass maggie 159753 aaaaaa ginger princess joshua cheese amanda summer
love ashley nicole chelsea biteme matthew access yankees 987654321 dallas
austin thunder taylor matrix mobilemail mom monitor monitoring montana moon
moscow william corvette hello martin heather secret merlin diamond 1234qwer
gfhjkm hammer silver 222222 88888888 anthony justin test bailey q1w2e3r4t5
patrick internet scooter orange 11111 golfer cookie richard samantha bigdog
guitar jackson whatever mickey chicken sparky snoopy maverick phoenix camaro
peanut morgan welcome falcon cowboy ferrari samsung andrea smokey steelers
joseph mercedes dakota arsenal eagles melissa boomer booboo spider nascar
monster tigers yellow xxxxxx 123123123 gateway marina diablo bulldog qwer1234
compaq purple hardcore banana junior hannah 123654 porsche lakers iceman
money cowboys 987654 london tennis 999999 ncc1701 coffee scooby 0000 miller
boston q1w2e3r4 brandon yamaha chester mother forever johnny edward 333333
oliver redsox player nikita knight fender barney midnight please brandy
chicago badboy slayer rangers charles angel flower rabbit wizard bigdick
jasper enter rachel chris steven winner adidas victoria natasha 1q2w3e4r
jasmine winter prince panties marine ghbdtn fishing cocacola casper james
232323 raiders 888888 marlboro gandalf asdfasdf crystal 87654321 12344321
golden 8675309 hello123 welcome1 welcome123 password1 password12 password123
passw0rd p@ssw0rd p@ssword pa55word pa55w0rd admin admin123 administrator
root toor changeme changeme123 default guest user user123 login qwerty123
qwerty1 1q2w3e 1q2w3e4r5t zaq12wsx zaq1zaq1 abcd1234 abcdef abcdefg abc12345
a1b2c3 a1b2c3d4 asdf1234 asdfghjkl asdfghjk qazwsxedc 1qazxsw2 password!
iloveyou1 princess1 sunshine1 football1 monkey1 charlie1 shadow1 michael1
superman1 dragon1 master1 letmein1 trustno1 baseball1 starwars1 secret1
secret123 test123 test1234 testing testtest demo demo123 sample example
temp temp123 temporary system sysadmin manager operator support service
office office123 company company123 business internet1 network security
sip sip123 sipsip voip voip123 voippass asterisk asterisk1 asterisk123
freepbx freepbx1 elastix trixbox pbx pbx123 pbxpass phone phone123
telephone voicemail extension extension1 trunk provider polycom cisco
cisco123 yealink grandstream snom avaya linksys sipura spa942 zoiper
linphone bria xlite 3cx 3cxphone mitel panasonic fritzbox speedport
openvpn router modem wireless wifi password2 password3 passwort passwort1
hallo hallo123 geheim schatz motdepasse soleil bonjour contrasena
contraseña senha123 qwertz qwertz123 azerty azerty123 ytrewq poiuyt
lkjhgf mnbvcx 123abc abc 111222 112211 121314 123789 147258 147258369
159357 258456 321321 456789 789456 741852963 963852741 102030 101010 202020
010101 110110 123098 135790 246810 13579 24680 1a2b3c 1a2b3c4d qwe123
qweasd qweasdzxc asd123 zxc123 zxcvb zxcvbnm1 1234abcd abcd qwert asdf
summer2020 summer2021 summer2022 summer2023 summer2024 winter2020 winter2021
winter2022 winter2023 winter2024 spring2024 autumn2024 january february
march april june july august september october november december monday
friday sunday weekend holiday holidays christmas easter birthday family
friends friend lovely loveme lover loving baby babygirl babyboy angel1
angels beautiful blessed jesus jesus1 god godisgood heaven faith hope
liverpool chelsea1 manchester barcelona madrid juventus football12 soccer1
hockey1 basketball baseball12 golf tennis1 swimming running cricket
dolphin elephant tiger lion eagle falcon1 shark horse pokemon pikachu
naruto minecraft fortnite roblox zelda mario batman1 spiderman ironman
hulk thor avengers matrix1 starwars12 startrek gameover letmein12 access14
master12 killer1 hunter2 hunter12 shadow12 secret12 qwerty12 asdfgh12
`;

/** The list, lower case, de-duplicated. */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  WORDS.split(/\s+/)
    .filter((w) => w.length > 0)
    .map((w) => w.toLowerCase()),
);

/** Entries long enough to be worth looking for inside a longer secret. */
export const COMMON_WORDS_FOR_SUBSTRING: readonly string[] = [...COMMON_PASSWORDS].filter((w) => w.length >= 4 && /[a-z]/.test(w)).sort((a, b) => b.length - a.length);

// The time zones a schedule may use: canonical IANA names, exactly as spelled
// (Temporal's scheduler loads them with Go's time.LoadLocation, which is
// case-sensitive and knows no ICU-only aliases), that Node's Intl can also
// format. Node's Intl is laxer than Go on both counts: it takes
// "america/toronto" and the long-removed "Canada/East-Saskatchewan".

/**
 * Current IANA names that ICU still files under an older spelling (ICU lists
 * "Asia/Calcutta", IANA and Go say "Asia/Kolkata"; Go knows both), plus UTC.
 * Checked against Go's zoneinfo (Go 1.26, tzdata 2025b) and ICU 78.
 */
const IANA_NAMES_ICU_SPELLS_OLD = [
  'UTC', 'Etc/UTC',
  'Africa/Asmara', 'America/Argentina/Buenos_Aires', 'America/Argentina/Catamarca', 'America/Argentina/Cordoba',
  'America/Argentina/Jujuy', 'America/Argentina/Mendoza', 'America/Atikokan', 'America/Indiana/Indianapolis',
  'America/Kentucky/Louisville', 'America/Nuuk', 'Asia/Ho_Chi_Minh', 'Asia/Kathmandu', 'Asia/Kolkata', 'Asia/Yangon',
  'Atlantic/Faroe', 'Europe/Kyiv', 'Pacific/Chuuk', 'Pacific/Kanton', 'Pacific/Pohnpei',
];

let zones: Set<string> | undefined;
let folded: Map<string, string> | undefined;

function formats(tz: string): string | null {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return null;
  }
}

/** Every name a schedule may use (built once). */
export function timeZones(): Set<string> {
  if (!zones) {
    zones = new Set([...Intl.supportedValuesOf('timeZone'), ...IANA_NAMES_ICU_SPELLS_OLD.filter((tz) => formats(tz))]);
    folded = new Map([...zones].map((tz) => [tz.toLowerCase(), tz]));
  }
  return zones;
}

/** Why Temporal would refuse `tz`, with the name it probably meant; null when it is fine. */
export function timeZoneError(tz: string): string | null {
  if (timeZones().has(tz)) return null;
  const meant = folded!.get(tz.trim().toLowerCase()) ?? canonical(tz);
  const hint = meant && meant !== tz ? `; did you mean ${meant}?` : ' (for example America/Toronto)';
  return `is not a time zone Temporal knows: use a canonical IANA name, spelled exactly${hint}`;
}

/** The canonical zone ICU maps an alias to, when that is one we accept. */
function canonical(tz: string): string | null {
  const resolved = tz.length <= 64 ? formats(tz) : null;
  return resolved && zones!.has(resolved) ? resolved : null;
}

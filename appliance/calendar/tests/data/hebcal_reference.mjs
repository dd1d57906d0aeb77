// Generates hebcal_2025_2030.json, the published times tests/published.rs checks
// shofar-calendar against, from hebcal's own library (@hebcal/core, GPL-2.0; only its
// output is kept here, as test data).
//
// Produced with @hebcal/core 6.9.3 (@hebcal/noaa 0.12.3, @hebcal/hdate 0.22.8) on Node 20.
//
// To re-run (in a scratch directory, so node_modules never lands in the repository):
//
//   mkdir -p /tmp/hebcal-ref && cd /tmp/hebcal-ref
//   npm init -y && npm install @hebcal/core@6.9.3
//   cp /path/to/appliance/calendar/tests/data/hebcal_reference.mjs .
//   node hebcal_reference.mjs > /path/to/appliance/calendar/tests/data/hebcal_2025_2030.json
//
// Output: one JSON object with
//   cities:  the locations used (hebcal's built-in coordinates) and their candle-lighting minutes
//   yom_tov: every Israeli Yom Tov day (hebcal's CHAG flag, il: true) in the range
//   events:  every "Candle lighting" and "Havdalah" event per city: civil date, local
//            time HH:MM in Asia/Jerusalem exactly as hebcal prints it, and what it is for.

import { readFileSync } from 'node:fs';
import { HebrewCalendar, Location, flags } from '@hebcal/core';

const version = JSON.parse(
  readFileSync(new URL('./node_modules/@hebcal/core/package.json', import.meta.url), 'utf8'),
).version;

const START = new Date(2025, 0, 1);
const END = new Date(2030, 11, 31);
const HAVDALAH_DEG = 8.5;

// [key in shofar-calendar, hebcal's classic city name, candle-lighting minutes]
const CITIES = [
  ['jerusalem', 'Jerusalem', 40],
  ['tel_aviv', 'Tel Aviv', 20],
  ['haifa', 'Haifa', 30],
  ['beer_sheva', 'Beer Sheva', 20],
  ['eilat', 'Eilat', 20],
  ['ashdod', 'Ashdod', 20],
  ['petah_tikva', 'Petach Tikvah', 20],
  ['tiberias', 'Tiberias', 20],
];

const pad = (n) => String(n).padStart(2, '0');
const isoDate = (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;

function calendarFor(location, candleLightingMins) {
  return HebrewCalendar.calendar({
    start: START,
    end: END,
    candlelighting: true,
    il: true,
    location,
    candleLightingMins,
    havdalahDeg: HAVDALAH_DEG,
    sedrot: false,
    noMinorFast: true,
    noModern: true,
    noRoshChodesh: true,
    noSpecialShabbat: true,
  });
}

const cities = [];
const events = [];
let yomTov = null;
for (const [key, name, mins] of CITIES) {
  const location = Location.lookup(name);
  if (!location) throw new Error(`hebcal has no city ${name}`);
  cities.push({
    key,
    name,
    latitude: location.getLatitude(),
    longitude: location.getLongitude(),
    candle_lighting_minutes: mins,
  });
  const evs = calendarFor(location, mins);
  for (const ev of evs) {
    const desc = ev.getDesc();
    if (desc !== 'Candle lighting' && desc !== 'Havdalah') continue;
    events.push({
      city: key,
      date: isoDate(ev.getDate().greg()),
      time: ev.eventTimeStr,
      kind: desc === 'Candle lighting' ? 'candles' : 'havdalah',
      for: ev.linkedEvent ? ev.linkedEvent.getDesc() : 'Shabbat',
    });
  }
  if (yomTov === null) {
    yomTov = evs
      .filter((ev) => ev.getFlags() & flags.CHAG)
      .filter((ev) => !['Candle lighting', 'Havdalah'].includes(ev.getDesc()))
      .map((ev) => ({ date: isoDate(ev.getDate().greg()), name: ev.getDesc() }));
  }
}

const lines = [];
lines.push('{');
lines.push(`  "generator": "tests/data/hebcal_reference.mjs",`);
lines.push(`  "hebcal_core_version": ${JSON.stringify(version)},`);
lines.push(`  "range": [${JSON.stringify(isoDate(START))}, ${JSON.stringify(isoDate(END))}],`);
lines.push(`  "havdalah_deg": ${HAVDALAH_DEG},`);
lines.push('  "cities": [');
lines.push(cities.map((c) => '    ' + JSON.stringify(c)).join(',\n'));
lines.push('  ],');
lines.push('  "yom_tov": [');
lines.push(yomTov.map((y) => '    ' + JSON.stringify(y)).join(',\n'));
lines.push('  ],');
lines.push('  "events": [');
lines.push(events.map((e) => '    ' + JSON.stringify(e)).join(',\n'));
lines.push('  ]');
lines.push('}');
process.stdout.write(lines.join('\n') + '\n');

// Test files the end-to-end run uploads: a contact spreadsheet the way an Israeli
// office keeps one (Hebrew headers, numbers typed every local way, one invalid
// and one duplicate row), and short WAV prompts.
import ExcelJS from 'exceljs';

/** Valid, allocated Israeli numbers (libphonenumber accepts them), as typed. */
export const CONTACTS = [
  ['דוד כהן', '052-5551201', 'ירושלים', 'כן'],
  ['שרה לוי', '054-4431202', 'תל אביב', 'כן'],
  ['יוסף מזרחי', '+972-52-555-1203', 'חיפה', 'כן'],
  ['רחל פרץ', '0525551204', 'באר שבע', 'כן'],
  ['משה ביטון', '03-6123456', 'תל אביב', 'כן'],
  ['לאה אברהם', '02-6234567', 'ירושלים', 'כן'],
  ['אברהם פרידמן', '04-8123456', 'חיפה', 'כן'],
  ['מרים דהן', '972545551208', 'אשדוד', 'כן'],
  ['יעקב אזולאי', '053-7331209', 'נתניה', 'כן'],
  ['חנה שפירא', '058-6441210', 'צפת', 'כן'],
];

/** Rows the import must refuse: a range no operator has, and a duplicate of row 2. */
export const BAD_ROWS = [
  ['פלוני אלמוני', '050-1234567', 'לוד', 'כן'],
  ['דוד כהן (שוב)', '052 555 1201', 'ירושלים', 'כן'],
];

/** An .xlsx with the contacts, the bad rows and `extra` (say, a number to blacklist). */
export async function contactsXlsx(extra = []) {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('אנשי קשר', { views: [{ rightToLeft: true }] });
  sheet.addRow(['שם', 'טלפון', 'עיר', 'הסכמה']);
  for (const row of [...CONTACTS, ...extra, ...BAD_ROWS]) sheet.addRow(row);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A mono 16-bit PCM WAV: a tone of `hz` for `seconds`, at 8 kHz. */
export function toneWav(seconds = 1.5, hz = 440, rate = 8000) {
  const samples = Math.round(seconds * rate);
  const buffer = Buffer.alloc(44 + samples * 2);
  buffer.write('RIFF', 0, 'ascii');
  buffer.writeUInt32LE(36 + samples * 2, 4);
  buffer.write('WAVE', 8, 'ascii');
  buffer.write('fmt ', 12, 'ascii');
  buffer.writeUInt32LE(16, 16);
  buffer.writeUInt16LE(1, 20);
  buffer.writeUInt16LE(1, 22);
  buffer.writeUInt32LE(rate, 24);
  buffer.writeUInt32LE(rate * 2, 28);
  buffer.writeUInt16LE(2, 32);
  buffer.writeUInt16LE(16, 34);
  buffer.write('data', 36, 'ascii');
  buffer.writeUInt32LE(samples * 2, 40);
  for (let i = 0; i < samples; i++) {
    const fade = Math.min(1, i / 400, (samples - i) / 400);
    buffer.writeInt16LE(Math.round(Math.sin((2 * Math.PI * hz * i) / rate) * 12000 * fade), 44 + i * 2);
  }
  return buffer;
}

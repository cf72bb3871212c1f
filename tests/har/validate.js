// validate.js - check HAR files with har-validator (the tests of
// `streamshim har`, tests/test_capture_tools.py).
//   node validate.js FILE...     ("-" reads standard input)
// Prints "ok FILE" or the validator's errors as JSON; exit 1 if any fails.
'use strict';
const fs = require('fs');
const validate = require('har-validator');

async function check(file) {
  const text = fs.readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    await validate.har(JSON.parse(text));
    console.log(`ok ${file}`);
    return true;
  } catch (e) {
    console.log(`invalid ${file}: ${JSON.stringify(e.errors || String(e))}`);
    return false;
  }
}

(async () => {
  let ok = true;
  for (const f of process.argv.slice(2)) ok = (await check(f)) && ok;
  process.exitCode = ok ? 0 : 1;
})();

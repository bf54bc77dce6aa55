// node scripts/security-counts.mjs <jest-results.json>: the attack suite's cases by category (the top-level
// describe of each test in test/security/), as the README's security section lists them.
import fs from 'node:fs';
import path from 'node:path';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: node scripts/security-counts.mjs <jest-results.json>\n');
  process.exit(2);
}
const report = JSON.parse(fs.readFileSync(file, 'utf8'));
const rows = new Map();
for (const suite of report.testResults) {
  if (!suite.name.includes(`${path.sep}test${path.sep}security${path.sep}`)) continue;
  for (const t of suite.assertionResults) {
    const key = `${path.basename(suite.name)} | ${t.ancestorTitles[0] ?? '(top level)'}`;
    const row = rows.get(key) ?? { passed: 0, total: 0 };
    row.total++;
    if (t.status === 'passed') row.passed++;
    rows.set(key, row);
  }
}
let total = 0;
let passed = 0;
console.log('| file | category | cases | passed |\n| --- | --- | ---: | ---: |');
for (const [key, row] of [...rows].sort(([a], [b]) => a.localeCompare(b))) {
  console.log(`| ${key} | ${row.total} | ${row.passed} |`);
  total += row.total;
  passed += row.passed;
}
console.log(`| all | | ${total} | ${passed} |`);

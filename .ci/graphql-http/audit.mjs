// GraphQL over HTTP conformance: graphql-http's serverAudits against a running door.
// Usage: node audit.mjs http://127.0.0.1:PORT/graphql
// Exit 1 when any MUST audit fails; SHOULD/MAY results are printed (accepted ones are
// listed with reasons in docs/decisions.md).
import { serverAudits } from 'graphql-http';

const url = process.argv[2];
if (!url) {
  console.error('usage: node audit.mjs URL');
  process.exit(2);
}
let ok = 0;
const failedMust = [];
const warnings = [];
for (const audit of serverAudits({ url, fetchFn: fetch })) {
  const result = await audit.fn();
  if (result.status === 'ok') {
    ok += 1;
  } else if (result.status === 'error') {
    failedMust.push(`${audit.name}: ${result.reason}`);
  } else {
    warnings.push(`${audit.name}: ${result.reason}`);
  }
}
for (const line of warnings) console.log(`warn  ${line}`);
for (const line of failedMust) console.log(`FAIL  ${line}`);
console.log(`graphql-http audit of ${url}: ${ok} ok, ${warnings.length} warnings, ${failedMust.length} MUST failures`);
process.exit(failedMust.length ? 1 : 0);

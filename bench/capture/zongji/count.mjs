// Baseline reader for bench/capture/run.sh: reads the binlog from <file>:4 with @vlasky/zongji,
// counts the row changes of one schema, and stops at <end file>:<end position> (or after the
// expected number of rows). Prints "rows=<n> seconds=<s> rows_per_sec=<r>".
// Usage: node count.mjs <host> <port> <user> <password> <schema> <start file> <end file> <end pos> <server id> <expected rows>
import ZongJi from '@vlasky/zongji';

const [host, port, user, password, schema, startFile, endFile, endPos, serverId, expected] = process.argv.slice(2);
const sequence = (file) => Number(file.slice(file.lastIndexOf('.') + 1));
const endSequence = sequence(endFile);
const endPosition = Number(endPos);
const expectedRows = Number(expected);

const zongji = new ZongJi({ host, port: Number(port), user, password });
let rows = 0;
let started = 0;
let done = false;

function finish(reason) {
  if (done) return;
  done = true;
  const seconds = (performance.now() - started) / 1000;
  console.log(`rows=${rows} seconds=${seconds.toFixed(3)} rows_per_sec=${Math.round(rows / seconds)}${reason ? ` (${reason})` : ''}`);
  zongji.stop();
  setTimeout(() => process.exit(0), 200).unref();
}

zongji.on('binlog', (event) => {
  const name = event.getEventName();
  if (name === 'writerows' || name === 'updaterows' || name === 'deleterows') {
    rows += event.rows.length;
    if (rows >= expectedRows) finish();
  } else if (name === 'rotate') {
    if (sequence(event.binlogName) > endSequence || (sequence(event.binlogName) === endSequence && event.position >= endPosition)) finish('end of range');
  }
});
zongji.on('error', (error) => {
  console.error(`zongji: ${error.message}`);
  process.exit(1);
});
zongji.on('ready', () => { started = performance.now(); });

started = performance.now();
zongji.start({
  serverId: Number(serverId),
  filename: startFile,
  position: 4,
  includeEvents: ['tablemap', 'writerows', 'updaterows', 'deleterows', 'rotate'],
  includeSchema: { [schema]: true },
});
setTimeout(() => { console.error('zongji: no end within 15 minutes'); process.exit(1); }, 15 * 60 * 1000).unref();

// A text file's lines one at a time, read in 1 MiB chunks: a reader that keeps only what it needs
// never holds the whole file and all its lines at once (a load run's history.jsonl is ~70 MB).
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';

/** Every line of the file, without its '\n' (a last line without one included, even if empty). */
export function* fileLines(path: string, chunkBytes = 1 << 20): Generator<string> {
  const fd = openSync(path, 'r');
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const decoder = new StringDecoder('utf8');
  try {
    let rest = '';
    for (;;) {
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      const text = rest + decoder.write(chunk.subarray(0, n));
      let start = 0;
      for (let nl = text.indexOf('\n'); nl !== -1; nl = text.indexOf('\n', start)) {
        yield text.slice(start, nl);
        start = nl + 1;
      }
      // A copy, not a slice: a slice would keep the whole chunk's text alive.
      rest = text.length > start ? Buffer.from(text.slice(start)).toString() : '';
    }
    yield rest + decoder.end();
  } finally {
    closeSync(fd);
  }
}

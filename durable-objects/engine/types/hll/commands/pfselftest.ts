import { defineCommand } from "../../../command";
import { RedisError } from "../../../errors";
import { HDR, Hll, REGISTERS, SPARSE_MAX_BYTES, countOf, emptyHll, getDense, setDense } from "../hll";

/** Register-access rounds of 16,384 registers (Redis: 1,000). */
const CYCLES = 100;
/** Elements added in the approximation test (Redis: 10,000,000; each a 64-bit MurmurHash here in JS). */
const ELEMENTS = 100_000;

/**
 * PFSELFTEST (admin): Redis's self-test of the HLL code, run on Flaredis's own: random values set
 * in every dense register read back without touching their neighbours; then unique elements added
 * to a dense and a sparse HLL at once, the sparse one sparse while small, both counting the same,
 * within six standard errors at each power of ten. OK, or Redis's `ERR TESTFAILED …` error.
 * @see https://redis.io/docs/latest/commands/pfselftest/
 */
export default defineCommand({
  name: "pfselftest",
  arity: 1,
  flags: ["admin"],
  keys: null,
  parse: () => null,
  run: ({ server }) => {
    const dense = new Hll(emptyHll());
    dense.toDense();
    const values = new Uint8Array(REGISTERS);
    for (let cycle = 0; cycle < CYCLES; cycle++) {
      for (let i = 0; i < REGISTERS; i++) {
        values[i] = Math.floor(server.random.next() * 64);
        setDense(dense.bytes, i, values[i]!);
      }
      for (let i = 0; i < REGISTERS; i++) {
        const got = getDense(dense.bytes, i);
        if (got !== values[i]) throw new RedisError(`ERR TESTFAILED Register ${i} should be ${values[i]} but is ${got}`);
      }
    }
    dense.bytes.fill(0, HDR);
    const sparse = new Hll(emptyHll());
    const relerr = 1.04 / Math.sqrt(REGISTERS);
    const seed = BigInt(Math.floor(server.random.next() * 2 ** 32)) | (BigInt(Math.floor(server.random.next() * 2 ** 32)) << 32n);
    const element = new Uint8Array(8);
    const view = new DataView(element.buffer);
    for (let j = 1, checkpoint = 1; j <= ELEMENTS; j++) {
      view.setBigUint64(0, BigInt(j) ^ seed, true);
      dense.add(element);
      if (sparse.add(element) < 0) throw new RedisError("ERR TESTFAILED sparse HLL corrupted");
      if (j !== checkpoint) continue;
      if (j < SPARSE_MAX_BYTES / 2 && sparse.dense) throw new RedisError("ERR TESTFAILED sparse encoding not used");
      const count = countOf(dense.bytes)!;
      if (count !== countOf(sparse.bytes)) throw new RedisError("ERR TESTFAILED dense/sparse disagree");
      const abserr = Math.abs(checkpoint - count);
      const maxerr = j === 10 ? 1 : Math.ceil(relerr * 6 * checkpoint);
      if (abserr > maxerr) throw new RedisError(`ERR TESTFAILED Too big error. card:${checkpoint} abserr:${abserr}`);
      checkpoint *= 10;
    }
    return "OK";
  },
});

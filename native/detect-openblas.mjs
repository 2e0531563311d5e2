// Prints 1 when OpenBLAS (cblas.h + libopenblas) can be compiled and linked here, else 0; used by
// binding.gyp so the addon links OpenBLAS where it exists and builds without it elsewhere.
// IMAGESENT_OPENBLAS=0 disables it.
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

function detect() {
  if (process.env.IMAGESENT_OPENBLAS === "0") return false;
  const dir = mkdtempSync(join(tmpdir(), "imagesent-blas-"));
  try {
    const src = join(dir, "probe.cc");
    writeFileSync(
      src,
      "#include <cblas.h>\nint main() { float a = 1, b = 1, c = 0;\n" +
        "cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 1, 1, 1, 1.f, &a, 1, &b, 1, 0.f, &c, 1);\n" +
        "return c == 1.f ? 0 : 1; }\n",
    );
    const cxx = process.env.CXX || "c++";
    const r = spawnSync(cxx, [src, "-o", join(dir, "probe"), "-lopenblas"], { stdio: "ignore" });
    return r.status === 0;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

process.stdout.write(detect() ? "1" : "0");

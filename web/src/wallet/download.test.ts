// The file name of a download, taken from the server's Content-Disposition header.
import { describe, expect, it } from "vitest";

import { filenameFrom } from "./download";

describe("filenameFrom", () => {
  it("reads quoted, bare and RFC 5987 names", () => {
    expect(filenameFrom('attachment; filename="gp4u-transactions.csv"', "x.csv")).toBe("gp4u-transactions.csv");
    expect(filenameFrom("attachment; filename=report.csv", "x.csv")).toBe("report.csv");
    expect(filenameFrom("attachment; filename*=UTF-8''costs%20nov.csv", "x.csv")).toBe("costs nov.csv");
  });

  it("falls back without a header or a name, and never keeps a path", () => {
    expect(filenameFrom(null, "x.csv")).toBe("x.csv");
    expect(filenameFrom("attachment", "x.csv")).toBe("x.csv");
    expect(filenameFrom('attachment; filename="../../etc/passwd"', "x.csv")).toBe("passwd");
  });
});

// A table's horizontal scroller (.table-wrap) that keyboard users can scroll too: on a phone the
// wide tables scroll sideways, so the scroller is focusable and named like its table.
import type { ReactNode } from "react";

export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  );
}

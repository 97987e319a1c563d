// A button that copies text (a command, an API key, a private key) to the clipboard and says
// whether it worked; when the browser refuses (or has no clipboard: plain HTTP on another host),
// the text stays on screen to copy by hand.
import { useState } from "react";

import { useToast } from "../app/toasts";

export function CopyButton({ text, what }: { text: string; what: string }) {
  const toast = useToast();
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(text); // throws where there is no clipboard
      setCopied(true);
      toast({ kind: "success", title: "Copied", detail: `${what[0]?.toUpperCase()}${what.slice(1)} is on your clipboard.` });
    } catch {
      toast({ kind: "error", title: "Could not copy", detail: `Select ${what} and copy it by hand.` });
    }
  };
  return (
    <button type="button" className="button" onClick={() => void copy()} aria-label={`Copy ${what}`}>
      {copied ? "Copied ✓" : "Copy"}
    </button>
  );
}

// The one-time agent token and the exact command that starts the host agent on the machine,
// with copy buttons. The token is shown only this once, so the page says so.
import { CopyButton } from "../app/CopyButton";
import { brokerUrl } from "./queries";

/** The command for a POSIX shell; the token goes in the environment so it stays out of the process list. */
export function agentCommand(token: string, broker: string): string {
  return `GP4U_HOST_TOKEN='${token}' gp4u agent host --broker ${broker}`;
}

export function AgentCommand({ token }: { token: string }) {
  const command = agentCommand(token, brokerUrl());
  return (
    <div className="card agent-command">
      <h2>Start the agent on the machine</h2>
      <p className="notice notice-simulated">
        <strong>Copy this now:</strong> the token is shown only once. If it is lost, make a new one on the machine&apos;s page.
      </p>
      <p>
        On the machine (with GP4U installed and its GPUs visible to <code>nvidia-smi</code>), run:
      </p>
      <CopyBlock label="Agent command" text={command} />
      <p className="muted">
        The first start registers the machine with the token and saves its own secret, so later starts need only{" "}
        <code>gp4u agent host --broker {brokerUrl()}</code>. See <code>gp4u agent host --help</code> for the options.
      </p>
      <CopyBlock label="Agent token" text={token} />
    </div>
  );
}

export function CopyBlock({ label, text }: { label: string; text: string }) {
  return (
    <div className="copy-block" role="group" aria-label={label}>
      <span className="copy-label">{label}</span>
      <pre tabIndex={0}>
        <code>{text}</code>
      </pre>
      <CopyButton text={text} what={`the ${label.toLowerCase()}`} />
    </div>
  );
}

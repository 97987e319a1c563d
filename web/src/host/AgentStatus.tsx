// How a machine and its agent are doing, in words and not by colour alone: listed/paused/retired
// with why it cannot be booked, the agent online or not with its last heartbeat, and the GPUs'
// measured throughput (or why there is none).
import { age, dateTime } from "../app/format";
import type { MachineAgent } from "./types";

export function MachineState({ status, bookable, reason }: { status: string; bookable: boolean; reason: string | null }) {
  const tone = status === "retired" ? "state-bad" : status === "paused" || !bookable ? "state-warn" : "state-good";
  return (
    <>
      <span className={`state ${tone}`}>{status === "listed" && bookable ? "listed, bookable" : status}</span>
      {!bookable && reason ? <div className="row-sub muted">{reason}</div> : null}
    </>
  );
}

export function AgentStatus({ agent }: { agent: MachineAgent }) {
  const label = agent.online ? "online" : agent.registered_at ? "offline" : "not checked in";
  return (
    <>
      <span className={`state ${agent.online ? "state-good" : "state-warn"}`}>Agent {label}</span>
      <div className="row-sub muted">
        {agent.last_heartbeat_at ? (
          <time dateTime={agent.last_heartbeat_at} title={dateTime(agent.last_heartbeat_at)}>
            Last heartbeat {age(agent.last_heartbeat_at)}
          </time>
        ) : agent.awaiting_registration ? (
          "Waiting for the agent's first check-in"
        ) : (
          "No heartbeat yet"
        )}
      </div>
      {agent.gpu_check && agent.gpu_check !== "ok" ? (
        <div className="row-sub">GPU check: {agent.gpu_check_detail ?? agent.gpu_check.replaceAll("_", " ")}</div>
      ) : null}
    </>
  );
}

const PRECISIONS = ["bf16", "fp16", "fp32"];

export function Throughput({ agent }: { agent: MachineAgent }) {
  const figures = agent.throughput.tflops;
  if (!figures || Object.keys(figures).length === 0) {
    const note = agent.throughput.note ?? "not measured yet";
    return <span className="muted">{note.charAt(0).toUpperCase() + note.slice(1)}</span>;
  }
  const keys = Object.keys(figures).sort((a, b) => PRECISIONS.indexOf(a) - PRECISIONS.indexOf(b));
  return (
    <span title={agent.throughput.method ?? undefined}>
      {keys.map((k) => `${(figures[k] ?? 0).toFixed(1)} TFLOPS ${k}`).join(" · ")}
    </span>
  );
}

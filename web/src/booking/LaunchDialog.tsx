// Launching an on-demand offer now: how many hours, an image, a startup command and an SSH key;
// the estimate (price × hours) held on the wallet; POST /api/v1/sessions, then the session's page
// (which shows a generated private key once).
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState } from "react";
import { useNavigate } from "react-router";

import { api } from "../api/client";
import { unwrap } from "../api/errors";
import type { Offer } from "../api/types";
import { useToast } from "../app/toasts";
import { money } from "../app/format";
import { estimate, launchMinutes } from "./estimate";
import { HoldDialog } from "./HoldDialog";
import { refusal, type Refusal } from "./moneyErrors";
import { KEYS, useWallet } from "./queries";
import "./booking.css";

const MAX_HOURS = 24 * 14;
type KeyChoice = "generate" | "mine" | "none";

export function LaunchDialog({ offer, what, onClose }: { offer: Offer; what: string; onClose: () => void }) {
  const ids = { hours: useId(), image: useId(), command: useId(), key: useId(), hoursHelp: useId() };
  const [hours, setHours] = useState("1");
  const [image, setImage] = useState("");
  const [command, setCommand] = useState("");
  const [keyChoice, setKeyChoice] = useState<KeyChoice>("generate");
  const [publicKey, setPublicKey] = useState("");
  const [failure, setFailure] = useState<Refusal | null>(null);
  const wallet = useWallet();
  const client = useQueryClient();
  const toast = useToast();
  const navigate = useNavigate();

  const parsed = Number(hours);
  const hoursProblem =
    hours.trim() === "" || !Number.isFinite(parsed) || parsed <= 0
      ? "Enter how many hours to run, more than 0."
      : parsed > MAX_HOURS
        ? `At most ${MAX_HOURS} hours (14 days) at a time; extend it later if needed.`
        : null;
  const keyProblem = keyChoice === "mine" && !publicKey.trim() ? "Paste your OpenSSH public key, or pick another option." : null;
  const quote = hoursProblem ? null : estimate(offer.price_per_hour, launchMinutes(parsed), wallet.data);

  const launch = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST("/api/v1/sessions", {
          body: {
            offer_id: offer.id,
            hours: parsed,
            image: image.trim() || null,
            startup_command: command.trim() || null,
            ssh_public_key: keyChoice === "generate" ? "generate" : keyChoice === "mine" ? publicKey.trim() : null,
          },
        }),
      ),
    onSuccess: (session) => {
      void client.invalidateQueries({ queryKey: KEYS.sessions });
      void client.invalidateQueries({ queryKey: KEYS.wallet });
      client.setQueryData(KEYS.session(session.id), session);
      toast({ kind: "success", title: `Launching session ${session.id}`, detail: `${money(session.held ?? 0)} held; it turns running when the machine checks in.` });
      navigate(`/sessions/${session.id}`, { state: { privateKey: session.ssh_private_key ?? null } });
    },
    onError: (error) => setFailure(refusal(error)),
  });

  return (
    <HoldDialog
      title={`Launch ${what}`}
      action="Launch"
      busyLabel="Launching…"
      busy={launch.isPending}
      quote={quote}
      pricePerHour={offer.price_per_hour}
      wallet={wallet}
      note="The estimate is held on your wallet when you launch; billing starts when the machine is running."
      failure={failure}
      onSubmit={() => {
        setFailure(null);
        if (hoursProblem || keyProblem) return;
        launch.mutate();
      }}
      onClose={onClose}
    >
      <p className="muted">
        {offer.provider} · {offer.instance_type} · {money(offer.price_per_hour)} per hour
      </p>
      <label className="field" htmlFor={ids.hours}>
        <span>Hours</span>
        <input
          id={ids.hours}
          type="number"
          inputMode="decimal"
          min={0.25}
          max={MAX_HOURS}
          step={0.25}
          value={hours}
          onChange={(e) => {
            setHours(e.target.value);
            setFailure(null);
          }}
          aria-invalid={hoursProblem !== null}
          aria-describedby={ids.hoursHelp}
        />
        <small id={ids.hoursHelp} className={hoursProblem ? "field-problem" : undefined}>
          {hoursProblem ?? "You pay per started minute of running time; what is not used comes back."}
        </small>
      </label>
      <label className="field" htmlFor={ids.image}>
        <span>Image (optional)</span>
        <input id={ids.image} type="text" value={image} maxLength={255} onChange={(e) => setImage(e.target.value)} placeholder="the provider's default" />
      </label>
      <label className="field" htmlFor={ids.command}>
        <span>Startup command (optional)</span>
        <textarea id={ids.command} rows={3} maxLength={16000} value={command} onChange={(e) => setCommand(e.target.value)} placeholder="python train.py" />
      </label>
      <fieldset className="key-choice">
        <legend>SSH access</legend>
        <label>
          <input type="radio" name="ssh-key" checked={keyChoice === "generate"} onChange={() => setKeyChoice("generate")} /> Generate a key pair (the
          private key is shown once)
        </label>
        <label>
          <input type="radio" name="ssh-key" checked={keyChoice === "mine"} onChange={() => setKeyChoice("mine")} /> Use my public key
        </label>
        <label>
          <input type="radio" name="ssh-key" checked={keyChoice === "none"} onChange={() => setKeyChoice("none")} /> No SSH key
        </label>
        {keyChoice === "mine" ? (
          <label className="field" htmlFor={ids.key}>
            <span>Public key</span>
            <textarea
              id={ids.key}
              rows={2}
              maxLength={4096}
              value={publicKey}
              onChange={(e) => setPublicKey(e.target.value)}
              placeholder="ssh-ed25519 AAAA… you@laptop"
              aria-invalid={keyProblem !== null}
            />
            {keyProblem ? <small className="field-problem">{keyProblem}</small> : null}
          </label>
        ) : null}
      </fieldset>
    </HoldDialog>
  );
}

// Creating a cluster from a planned job (POST /api/v1/clusters): what every member runs, then the
// plan is made again over the offers this server can launch and its cost held on the wallet. A
// visitor without a login is sent to log in (or sign up) and comes back to this same plan.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useId, useState, type FormEvent } from "react";
import { Link, useLocation, useNavigate } from "react-router";

import { api } from "../api/client";
import { ApiError, describeError, unwrap } from "../api/errors";
import type { components } from "../api/schema";
import { Dialog } from "../app/Dialog";

import { useToast } from "../app/toasts";
import { useMe } from "../auth/useMe";
import { CopyButton } from "../app/CopyButton";
import { useIdempotencyKey } from "../app/idempotency";
import { total } from "./format";
import { parseEnv, type JobIn } from "./planState";
import { CLUSTERS_KEY } from "./queries";

type Created = components["schemas"]["ClusterCreatedOut"];
type SshChoice = "none" | "paste" | "generate";

export function CreateCluster({ job }: { job: JobIn }) {
  const me = useMe();
  const location = useLocation();
  const here = `${location.pathname}${location.search}`;
  if (me.isPending) return null;
  if (!me.data) {
    return (
      <section className="card create-cluster" aria-labelledby="create-title">
        <h2 id="create-title">Create this cluster</h2>
        <p>Log in to create it: the plan's cost is held on your wallet until the cluster ends.</p>
        <div className="actions">
          <Link className="button button-primary" to={`/login?next=${encodeURIComponent(here)}`}>
            Log in to create
          </Link>
          <Link className="button" to={`/signup?next=${encodeURIComponent(here)}`}>
            Create an account
          </Link>
        </div>
      </section>
    );
  }
  return <CreateForm job={job} />;
}

function CreateForm({ job }: { job: JobIn }) {
  const navigate = useNavigate();
  const client = useQueryClient();
  const toast = useToast();
  const errorId = useId();
  const fieldId = useId();
  const [name, setName] = useState("");
  const [image, setImage] = useState("");
  const [command, setCommand] = useState("");
  const [envText, setEnvText] = useState("");
  const [ssh, setSsh] = useState<SshChoice>("none");
  const [publicKey, setPublicKey] = useState("");
  const [envError, setEnvError] = useState<string | null>(null);
  const [created, setCreated] = useState<Created | null>(null);
  // One key per attempted cluster: a retry after a lost answer returns the same cluster.
  const idempotencyKey = useIdempotencyKey();

  const create = useMutation({
    mutationFn: (env: Record<string, string>) =>
      unwrap(
        api.POST("/api/v1/clusters", {
          params: { header: { "idempotency-key": idempotencyKey.current } },
          body: {
            ...job,
            name: name.trim() || null,
            image: image.trim() || null,
            startup_command: command.trim() || null,
            env,
            ssh_public_key: ssh === "generate" ? "generate" : ssh === "paste" ? publicKey.trim() || null : null,
          },
        }),
      ),
    onSuccess: async (cluster) => {
      idempotencyKey.answered();
      await client.invalidateQueries({ queryKey: CLUSTERS_KEY });
      await client.invalidateQueries({ queryKey: ["wallet"] });
      toast({ kind: "success", title: "Cluster created", detail: `${total(cluster.money.estimate)} held on your wallet` });
      if (cluster.ssh_private_key) setCreated(cluster);
      else navigate(`/clusters/${cluster.id}`);
    },
    onError: (error) => {
      idempotencyKey.answered(error);
      toast({ kind: "error", title: "Could not create the cluster", detail: describeError(error) });
    },
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    const parsed = parseEnv(envText);
    if ("error" in parsed) {
      setEnvError(parsed.error);
      return;
    }
    setEnvError(null);
    create.mutate(parsed.env);
  };

  const error = create.error;
  const noMoney = error instanceof ApiError && error.status === 402;
  return (
    <section className="card create-cluster" aria-labelledby="create-title">
      <h2 id="create-title">Create this cluster</h2>
      <p className="muted">
        GP4U plans it again over the offers it can launch and holds the cost on your wallet. Nothing runs until you start it.
      </p>
      <form className="form" onSubmit={submit} noValidate aria-describedby={error ? errorId : undefined}>
        <div className="field-row">
          <label className="field">
            <span>Name</span>
            <input value={name} maxLength={80} onChange={(e) => setName(e.target.value)} placeholder="llama-finetune" />
          </label>
          <label className="field">
            <span>Image</span>
            <input value={image} maxLength={255} onChange={(e) => setImage(e.target.value)} placeholder="pytorch/pytorch:latest" />
          </label>
        </div>
        <div className="field">
          <label htmlFor={`${fieldId}-command`}>Startup command</label>
          <textarea
            id={`${fieldId}-command`}
            rows={2}
            value={command}
            onChange={(e) => setCommand(e.target.value)}
            placeholder="torchrun train.py"
            aria-describedby={`${fieldId}-command-hint`}
          />
          <small id={`${fieldId}-command-hint`}>Runs on every member once it is up.</small>
        </div>
        <div className="field">
          <label htmlFor={`${fieldId}-env`}>Environment variables</label>
          <textarea
            id={`${fieldId}-env`}
            rows={2}
            value={envText}
            onChange={(e) => setEnvText(e.target.value)}
            placeholder="WANDB_PROJECT=llama"
            aria-invalid={envError ? true : undefined}
            aria-describedby={`${fieldId}-env-hint${envError ? ` ${fieldId}-env-error` : ""}`}
          />
          <small id={`${fieldId}-env-hint`}>One NAME=value a line. Values are stored encrypted and never shown again.</small>
        </div>
        {envError ? (
          <p id={`${fieldId}-env-error`} className="form-error" role="alert">
            {envError}
          </p>
        ) : null}
        <fieldset className="field create-ssh">
          <legend>SSH access</legend>
          {(
            [
              ["none", "None"],
              ["paste", "My public key"],
              ["generate", "Generate a key pair"],
            ] as const
          ).map(([value, label]) => (
            <label key={value} className="check">
              <input type="radio" name="ssh" value={value} checked={ssh === value} onChange={() => setSsh(value)} />
              {label}
            </label>
          ))}
        </fieldset>
        {ssh === "paste" ? (
          <label className="field">
            <span>OpenSSH public key</span>
            <textarea rows={2} value={publicKey} onChange={(e) => setPublicKey(e.target.value)} placeholder="ssh-ed25519 AAAA…" />
          </label>
        ) : null}
        {error ? (
          <div id={errorId} className="form-error" role="alert">
            <p>{describeError(error)}</p>
            {noMoney ? (
              <p>
                <Link to="/wallet">Add funds or change your budget in the wallet</Link>
              </p>
            ) : null}
          </div>
        ) : null}
        <button type="submit" className="button button-primary" disabled={create.isPending}>
          {create.isPending ? "Creating…" : "Create cluster"}
        </button>
      </form>
      {created ? (
        <Dialog
          title="Your SSH private key"
          onClose={() => navigate(`/clusters/${created.id}`)}
          footer={
            <button type="button" className="button button-primary" onClick={() => navigate(`/clusters/${created.id}`)}>
              Go to the cluster
            </button>
          }
        >
          <p>Every member accepts this key. It is shown this once: store it now.</p>
          <pre className="secret-block">{created.ssh_private_key}</pre>
          <CopyButton text={created.ssh_private_key ?? ""} what="the private key" />
        </Dialog>
      ) : null}
    </section>
  );
}

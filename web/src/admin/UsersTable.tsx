// Every user (GET /admin/users, 50 a page): roles and whether the account is active, with
// "Change roles" and "Deactivate"/"Reactivate", each confirmed and reported in a toast.
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";

import { api } from "../api/client";
import { describeError, unwrap } from "../api/errors";
import type { components } from "../api/schema";
import { Dialog } from "../app/Dialog";
import { useToast } from "../app/toasts";
import { LoadError } from "../app/LoadError";
import { ConfirmDialog } from "../app/ConfirmDialog";

type User = components["schemas"]["UserOut"];
type Role = User["roles"][number];
const ROLES: readonly { role: Role; help: string }[] = [
  { role: "renter", help: "Rents GPUs and pays for them." },
  { role: "host", help: "Lists machines and earns from them." },
  { role: "admin", help: "Manages users and providers, reads the audit log." },
];
export const USERS_KEY = ["admin", "users"] as const;

type Pending = { user: User; kind: "roles" } | { user: User; kind: "active" };

export function UsersTable({ selfId }: { selfId: string }) {
  const [pending, setPending] = useState<Pending | null>(null);
  const users = useInfiniteQuery({
    queryKey: USERS_KEY,
    queryFn: ({ pageParam }) => unwrap(api.GET("/api/v1/admin/users", { params: { query: { after: pageParam, limit: 50 } } })),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.next_after ?? undefined,
  });
  const rows = users.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <section aria-labelledby="users-title">
      <h2 id="users-title">Users</h2>
      {users.isPending ? (
        <p role="status">Loading users…</p>
      ) : users.isError ? (
        <LoadError what="the users" error={users.error} onRetry={() => void users.refetch()} />
      ) : rows.length === 0 ? (
        <p className="empty">No users yet.</p>
      ) : (
        <>
          <div className="table-wrap">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">User</th>
                  <th scope="col">Roles</th>
                  <th scope="col">Account</th>
                  <th scope="col">Since</th>
                  <th scope="col">
                    <span className="sr-only">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {rows.map((u) => (
                  <tr key={u.id}>
                    <td>
                      {u.display_name}
                      {u.id === selfId ? " (you)" : ""}
                      <div className="row-sub muted">{u.email}</div>
                    </td>
                    <td>{u.roles.join(", ")}</td>
                    <td>
                      <span className={`state ${u.is_active ? "state-good" : "state-bad"}`}>{u.is_active ? "active" : "deactivated"}</span>
                    </td>
                    <td>{new Date(u.created_at).toLocaleDateString()}</td>
                    <td>
                      <div className="actions">
                        <button type="button" className="button button-quiet" onClick={() => setPending({ user: u, kind: "roles" })}>
                          Change roles<span className="sr-only"> of {u.email}</span>
                        </button>
                        <button
                          type="button"
                          className={`button ${u.is_active ? "button-danger" : ""}`}
                          onClick={() => setPending({ user: u, kind: "active" })}
                          disabled={u.id === selfId && u.is_active}
                          title={u.id === selfId ? "You cannot deactivate yourself" : undefined}
                        >
                          {u.is_active ? "Deactivate" : "Reactivate"}
                          <span className="sr-only"> {u.email}</span>
                        </button>
                      </div>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {users.hasNextPage ? (
            <button type="button" className="button admin-more" onClick={() => void users.fetchNextPage()} disabled={users.isFetchingNextPage}>
              {users.isFetchingNextPage ? "Loading…" : "Load more users"}
            </button>
          ) : null}
        </>
      )}
      {pending?.kind === "roles" ? <RolesDialog user={pending.user} onClose={() => setPending(null)} /> : null}
      {pending?.kind === "active" ? <ActiveDialog user={pending.user} onClose={() => setPending(null)} /> : null}
    </section>
  );
}

function useChangeUser(onDone: () => void) {
  const client = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: ({ user, body }: { user: User; body: { roles?: Role[]; is_active?: boolean } }) =>
      unwrap(api.PATCH("/api/v1/admin/users/{user_id}", { params: { path: { user_id: user.id } }, body })),
    onSuccess: (user, { body }) => {
      void client.invalidateQueries({ queryKey: USERS_KEY });
      void client.invalidateQueries({ queryKey: ["me"] });
      toast({
        kind: "success",
        title: body.roles ? `${user.email}: roles changed` : `${user.email} ${user.is_active ? "reactivated" : "deactivated"}`,
        detail: body.roles ? `Now ${user.roles.join(", ")}.` : user.is_active ? "They can log in again." : "Their logins end and they cannot log in.",
      });
      onDone();
    },
    onError: (error, { user }) => toast({ kind: "error", title: `${user.email} was not changed`, detail: describeError(error) }),
  });
}

function RolesDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const [roles, setRoles] = useState<Role[]>(user.roles);
  const change = useChangeUser(onClose);
  const toggle = (role: Role) => setRoles((current) => (current.includes(role) ? current.filter((r) => r !== role) : [...current, role]));
  const same = [...roles].sort().join() === [...user.roles].sort().join();
  return (
    <Dialog
      title={`Roles of ${user.email}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="button button-quiet" onClick={onClose}>
            Cancel
          </button>
          <button type="button" className="button button-primary" disabled={roles.length === 0 || same || change.isPending} onClick={() => change.mutate({ user, body: { roles } })}>
            Save roles
          </button>
        </>
      }
    >
      <fieldset className="admin-roles">
        <legend>Roles (at least one)</legend>
        {ROLES.map(({ role, help }) => (
          <label key={role} className="admin-role">
            <input type="checkbox" checked={roles.includes(role)} onChange={() => toggle(role)} />
            <span>
              <strong>{role}</strong> <span className="muted">{help}</span>
            </span>
          </label>
        ))}
      </fieldset>
      {roles.length === 0 ? <p className="field-error">Keep at least one role.</p> : null}
    </Dialog>
  );
}

function ActiveDialog({ user, onClose }: { user: User; onClose: () => void }) {
  const change = useChangeUser(onClose);
  const deactivate = user.is_active;
  return (
    <ConfirmDialog
      title={`${deactivate ? "Deactivate" : "Reactivate"} ${user.email}?`}
      confirmLabel={deactivate ? "Deactivate" : "Reactivate"}
      busyLabel={deactivate ? "Deactivate" : "Reactivate"}
      tone={deactivate ? "danger" : "primary"}
      busy={change.isPending}
      onConfirm={() => change.mutate({ user, body: { is_active: !deactivate } })}
      onClose={onClose}
    >
      <p>
        {deactivate
          ? "They are logged out everywhere and cannot log in or use their API keys until reactivated. Nothing of theirs is deleted."
          : "They can log in again with their password."}
      </p>
    </ConfirmDialog>
  );
}

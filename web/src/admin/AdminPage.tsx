// Admin (admins only): users, with their roles changed and accounts deactivated or reactivated,
// and the audit log with its filters. Anyone else gets a plain "admins only" page.
import { useEffect } from "react";
import { useSearchParams } from "react-router";

import { useMe } from "../auth/useMe";
import { AuditLog } from "./AuditLog";
import { UsersTable } from "./UsersTable";
import "./admin.css";

const TABS = [
  { id: "users", label: "Users" },
  { id: "audit", label: "Audit log" },
] as const;

export function AdminPage() {
  const me = useMe();
  const [params, setParams] = useSearchParams();
  const tab = params.get("tab") === "audit" ? "audit" : "users";
  useEffect(() => {
    document.title = "Admin · GP4U";
  }, []);
  if (!me.data) return null; // RequireAuth renders this page only for a known user
  if (!me.data.roles.includes("admin")) {
    return (
      <section className="page narrow" aria-labelledby="admin-title">
        <h1 id="admin-title">Admins only</h1>
        <p>This page manages users and shows the audit log; only administrators can open it.</p>
        <p className="muted">An operator can make an account an administrator with `gp4u user grant EMAIL admin`.</p>
      </section>
    );
  }
  return (
    <section className="page admin-page" aria-labelledby="admin-title">
      <div className="page-head">
        <h1 id="admin-title">Admin</h1>
      </div>
      <nav className="tabs" aria-label="Admin sections">
        {TABS.map((t) => (
          <button key={t.id} type="button" aria-current={tab === t.id ? "page" : undefined} onClick={() => setParams(t.id === "users" ? {} : { tab: t.id })}>
            {t.label}
          </button>
        ))}
      </nav>
      {tab === "users" ? <UsersTable selfId={me.data.id} /> : <AuditLog />}
    </section>
  );
}

export default AdminPage;

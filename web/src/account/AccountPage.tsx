// Your account (a protected page): the profile GP4U knows. API keys and provider credentials
// come in a later version of this page.
import { useEffect } from "react";

import { useMe } from "../auth/useMe";

export function AccountPage() {
  const me = useMe();
  useEffect(() => {
    document.title = "Account · GP4U";
  }, []);
  const user = me.data;
  if (!user) return null; // RequireAuth renders this page only for a known user
  return (
    <section className="page narrow" aria-labelledby="account-title">
      <h1 id="account-title">Account</h1>
      <dl className="specs">
        <dt>Name</dt>
        <dd>{user.display_name}</dd>
        <dt>E-mail</dt>
        <dd>{user.email}</dd>
        <dt>Roles</dt>
        <dd>{user.roles.join(", ")}</dd>
        <dt>Sign-in</dt>
        <dd>{user.auth_mode === "local" ? "Local mode (this machine's only user)" : "Account"}</dd>
        <dt>Member since</dt>
        <dd>{new Date(user.created_at).toLocaleDateString()}</dd>
      </dl>
    </section>
  );
}

export default AccountPage;

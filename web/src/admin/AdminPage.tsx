// Admin: not built yet (issue 9).
export function AdminPage() {
  return (
    <section className="page" aria-labelledby="adminpage-title">
      <h1 id="adminpage-title">Admin</h1>
    </section>
  );
}

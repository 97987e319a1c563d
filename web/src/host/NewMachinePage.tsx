// List a machine: not built yet (issue 9).
export function NewMachinePage() {
  return (
    <section className="page" aria-labelledby="newmachinepage-title">
      <h1 id="newmachinepage-title">List a machine</h1>
    </section>
  );
}

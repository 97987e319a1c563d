// Machine: not built yet (issue 9).
export function MachinePage() {
  return (
    <section className="page" aria-labelledby="machinepage-title">
      <h1 id="machinepage-title">Machine</h1>
    </section>
  );
}

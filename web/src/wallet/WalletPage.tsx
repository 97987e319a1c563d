// Wallet: not built yet (issue 9).
export function WalletPage() {
  return (
    <section className="page" aria-labelledby="walletpage-title">
      <h1 id="walletpage-title">Wallet</h1>
    </section>
  );
}

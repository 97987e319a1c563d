// Sign up: not built yet (issue 9).
export function SignupPage() {
  return (
    <section className="page" aria-labelledby="signuppage-title">
      <h1 id="signuppage-title">Sign up</h1>
    </section>
  );
}

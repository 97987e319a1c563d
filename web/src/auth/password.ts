// The password rule the server enforces, checked in the browser first so the form can say what
// is wrong before sending anything (the server stays the judge, e.g. of guessable passwords).
/** The server's password rule (src/gp4u/accounts/passwords.py): 15 to 128 characters. */
export const PASSWORD_MIN = 15;
export const PASSWORD_MAX = 128;

export function passwordProblem(password: string, confirm: string): string | null {
  if (password.length < PASSWORD_MIN) return `The password needs at least ${PASSWORD_MIN} characters (a few words work well).`;
  if (password.length > PASSWORD_MAX) return `The password may have at most ${PASSWORD_MAX} characters.`;
  if (password !== confirm) return "The two passwords differ.";
  return null;
}

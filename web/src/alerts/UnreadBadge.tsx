// The number of unread notifications, for the "Alerts" link in the main navigation (nothing
// when there are none or nobody is logged in). AlertListener refreshes it as alerts arrive.
import { useMe } from "../auth/useMe";
import { useUnreadCount } from "./queries";
import "./live.css";

export function UnreadBadge() {
  const me = useMe();
  const unread = useUnreadCount(Boolean(me.data));
  const n = unread.data ?? 0;
  if (n === 0) return null;
  return (
    <span className="nav-badge" data-testid="unread-badge">
      {n > 99 ? "99+" : n}
      <span className="sr-only"> unread</span>
    </span>
  );
}

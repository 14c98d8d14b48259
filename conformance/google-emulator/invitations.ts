// Invitation copies (opt-in, `invitations({ autoAdd: true })`): an event whose
// attendees include other emulator accounts appears in each one's primary
// calendar with the same id and iCalUID, the organizer's edits follow, and a
// removed attendee or a cancelled event leaves a cancelled copy — as Google
// adds guests' copies whatever `sendUpdates` says (that only governs mail).
import type { calendar_v3 } from 'googleapis';
import type { ApiContext } from './context.ts';
import { saveEvent } from './context.ts';
import { htmlLink } from './event-resource.ts';
import type { Calendar } from './store.ts';

type Event = calendar_v3.Schema$Event;

export type Invitations = { autoAdd: boolean; propagate(cal: Calendar, ev: Event): void };

/** The guest's copy: organizer's fields, but the guest's own private properties, reminders and answer. */
function guestCopy(ctx: ApiContext, ev: Event, organizerCal: Calendar, guest: string, previous: Event | undefined, cancelled: boolean): Event {
  const stamp = ctx.store.stamp();
  const withoutSelf = <T extends { self?: boolean | null }>(p: T): Omit<T, 'self'> => {
    const { self: _s, ...rest } = p;
    return rest;
  };
  const organizer = withoutSelf(ev.organizer ?? { email: organizerCal.id });
  const creator = ev.creator ? withoutSelf(ev.creator) : organizer;
  const mine = previous?.attendees?.find((a) => a.email === guest);
  const attendees = ev.attendees?.map((a) => (a.email === guest ? { ...withoutSelf(a), self: true, responseStatus: mine?.responseStatus ?? a.responseStatus } : withoutSelf(a)));
  const copy: Event = {
    ...ev,
    etag: `"${stamp.micros}"`,
    updated: stamp.iso,
    htmlLink: htmlLink(ev.id!, guest),
    creator,
    organizer,
    status: cancelled ? 'cancelled' : ev.status,
    reminders: previous?.reminders ?? { useDefault: true },
  };
  if (attendees) copy.attendees = attendees;
  const shared = ev.extendedProperties?.shared;
  const priv = previous?.extendedProperties?.private;
  if (shared || priv) copy.extendedProperties = { ...(priv ? { private: priv } : {}), ...(shared ? { shared } : {}) };
  else delete copy.extendedProperties;
  return copy;
}

export function createInvitations(ctx: ApiContext): Invitations {
  return {
    autoAdd: false,
    propagate(cal, ev) {
      if (!this.autoAdd || ev.organizer?.email !== cal.id) return;
      const guests = new Set((ev.attendees ?? []).map((a) => a.email!).filter((e) => e !== cal.owner && ctx.store.accounts.has(e)));
      for (const account of ctx.store.accounts.values()) {
        if (account.email === cal.owner) continue;
        const primary = ctx.store.calendars.get(account.email);
        if (!primary) continue;
        const previous = primary.events.get(ev.id!);
        if (previous && previous.data.organizer?.email !== cal.id) continue; // an unrelated event with that id
        const invited = guests.has(account.email);
        if (!invited && (!previous || previous.data.status === 'cancelled')) continue;
        saveEvent(ctx, primary, guestCopy(ctx, ev, cal, account.email, previous?.data, !invited || ev.status === 'cancelled'), previous);
      }
    },
  };
}

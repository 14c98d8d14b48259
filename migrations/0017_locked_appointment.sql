-- An appointment locked for a write, then read: its row, who takes part and
-- its copies in every calendar, as JSON. The read follows the lock inside the
-- function because a VOLATILE function's every query takes a new snapshot
-- (READ COMMITTED): what a writer we waited for committed is seen, which a
-- subquery of the calling statement, reading as of that statement's start,
-- would miss. So a CalDAV PUT reads the object it replaces and the
-- appointment behind it in one statement, and any other write of an
-- appointment locks and reads it in one (issue 15: a round trip fewer each).
CREATE FUNCTION locked_appointment(appointment bigint) RETURNS json LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  held json;
BEGIN
  PERFORM 1 FROM appointments WHERE id = appointment FOR UPDATE;
  SELECT json_build_object(
      'appt', to_json(a),
      'participant_ids', ARRAY(SELECT p.user_id FROM appointment_participants p WHERE p.appointment_id = a.id ORDER BY p.user_id),
      'copies', (SELECT coalesce(json_agg(o ORDER BY o.id), '[]'::json) FROM calendar_objects o WHERE o.item_kind = 'appointment' AND o.item_id = a.id))
    INTO held FROM appointments a WHERE a.id = appointment;
  RETURN held;
END
$$;

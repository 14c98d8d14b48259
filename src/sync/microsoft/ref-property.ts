/**
 * Kalends' own MAPI property set, in which both Microsoft bridges (EWS and
 * Graph) store the CRM item a copy stands for, so each recognises the copies
 * the other made in the same mailbox.
 */
export const REF_PROPERTY_SET = 'c11ff724-aa03-4555-9952-8fa248a11c3e'
export const REF_PROPERTY_NAME = 'KalendsItem'

/** A hash's fields with deadlines (HEXPIRE and its kin), and the storage's query over them. */

/** A hash field and its deadline. */
export interface FieldDeadline {
  readonly field: string;
  readonly expiresAt: number;
}

/** The storage's query of a hash's fields by deadline (Storage.indexes.hashFields). */
export interface FieldDeadlineIndex {
  /**
   * Hash fields of `eid` with a deadline after `after` (null: any) and at or before `until` (null:
   * any), earliest first, at most `limit`: as many rows read as returned.
   */
  fieldDeadlines(eid: number, after: number | null, until: number | null, limit: number): FieldDeadline[];
}

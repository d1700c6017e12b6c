/**
 * @internal The error of an attempt whose runtime died before it reported an outcome (an isolate
 * killed mid-handler, an object restarted): the attempt counts, as any delivery does.
 *
 * @example
 * throw runtimeDied('mailer', 3, 2)
 */
export const runtimeDied = (
  subscription: string,
  seq: number,
  attempt: number,
  how: string,
): Error =>
  Object.assign(
    new Error(
      `the runtime running attempt ${attempt} of #${seq} in "${subscription}" died before reporting an outcome (${how})`,
    ),
    { name: 'RuntimeDied' },
  )

import { DirectoryError } from '../../control/directory/errors';

/** The code and message a directory call is refused with; throws if it succeeds or fails any other way. */
export async function directoryFailure(p: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await p;
  } catch (err) {
    if (err instanceof DirectoryError) return { code: err.code, message: err.message };
    throw err;
  }
  throw new Error('expected a DirectoryError');
}

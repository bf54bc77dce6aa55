import { createRotationHandler } from '../../control/rotation/steps';

/** The deployed rotation function of service secrets: Secrets Manager invokes it once per step. */
export const handler = createRotationHandler();

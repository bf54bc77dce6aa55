import * as z from 'zod/mini';
import { int } from './config-fields';

/**
 * `deployment.alarms`: the stack's alarm thresholds and where the alarms notify. Every alarm counts a genuine
 * failure (a 500, a crash, a timeout, a throttle), never a 401 or 403: every expired token is a 401, so a count of
 * them measures the clients, not the API. 401s and 403s are on the dashboard instead (Decisions by outcome).
 */

/** An SNS topic's ARN: a standard topic (CloudWatch alarms cannot publish to a FIFO topic: they send no message group). */
export const SNS_TOPIC_ARN_PATTERN = /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}$/;
export const SNS_TOPIC_ARN_MESSAGE = 'an SNS topic ARN looks like arn:aws:sns:eu-west-1:123456789012:alerts (a standard topic, not .fifo)';

/** The message for the 401/403 thresholds that earlier versions had: a config that still sets one fails synth. */
export const RETIRED_401_403_MESSAGE =
  '401 and 403 counts no longer raise alarms (every expired token is a 401, so the count measures clients, not the API); ' +
  'they moved to the dashboard (Decisions by outcome). Remove this field';

const threshold = (defaultValue: number) => z._default(int(1, 1_000_000), defaultValue);
/** A field earlier versions read: refused with the reason, never silently ignored (see README, Deploy to AWS). */
const retired = z.optional(z.never({ error: RETIRED_401_403_MESSAGE }));

const alarmsObject = z.strictObject({
  /** Requests that API Gateway answered with a 5xx (any cause: handler crash, authorizer failure, timeout, limiter closed). */
  api5xxPer5Minutes: threshold(5),
  /** Requests refused with 500 because the authorizer failed (crash, timeout, bad answer, dependency failure), from the access log. */
  authorizerFailuresPer5Minutes: threshold(5),
  /** Decisions that ended in a dependency failure (the authorizer's `decision: error`, a 500). */
  dependencyErrorsPer5Minutes: threshold(5),
  /** Failed invocations of a handler function: handlers answer every error they know, so one is a crash or a timeout. */
  handlerErrorsPer5Minutes: threshold(1),
  /** Throttled invocations of the authorizer or of a handler function. */
  throttlesPer5Minutes: threshold(1),
  /** An existing SNS topic (standard, in the stack's account and Region) that every alarm notifies. */
  topicArn: z.optional(z.string().check(z.regex(SNS_TOPIC_ARN_PATTERN, SNS_TOPIC_ARN_MESSAGE))),
  /** The stack creates a topic with this email subscription (the address confirms it once). */
  email: z.optional(z.email('an email address, e.g. oncall@example.com')),
  /** The stack creates a topic (implied by `email`); subscribe to it later through the AlarmTopicArn output. */
  createTopic: z.optional(z.boolean()),
  unauthorizedPer5Minutes: retired,
  forbiddenPer5Minutes: retired,
});

export const alarmsSchema = z._default(
  alarmsObject.check(
    z.superRefine((a, ctx) => {
      if (a.topicArn !== undefined && (a.email !== undefined || a.createTopic)) {
        ctx.addIssue({ code: 'custom', path: ['topicArn'], message: 'either an existing topic (topicArn) or one the stack creates (email, createTopic), not both' });
      }
      if (a.createTopic === false && a.email !== undefined) {
        ctx.addIssue({ code: 'custom', path: ['createTopic'], message: 'email subscribes to the topic the stack creates: drop createTopic: false or the email' });
      }
    }),
  ),
  {
    api5xxPer5Minutes: 5,
    authorizerFailuresPer5Minutes: 5,
    dependencyErrorsPer5Minutes: 5,
    handlerErrorsPer5Minutes: 1,
    throttlesPer5Minutes: 1,
  },
);

export type AlarmSettings = z.output<typeof alarmsSchema>;

/** The thresholds, each a count in five minutes at or above which its alarm fires. */
export type AlarmThresholds = Pick<
  AlarmSettings,
  'api5xxPer5Minutes' | 'authorizerFailuresPer5Minutes' | 'dependencyErrorsPer5Minutes' | 'handlerErrorsPer5Minutes' | 'throttlesPer5Minutes'
>;

/** Where the alarms notify: an existing topic, one the stack creates (with an email subscription or none), or nowhere. */
export type AlarmTarget = { readonly kind: 'existing'; readonly topicArn: string } | { readonly kind: 'create'; readonly email?: string } | undefined;

export function alarmTarget(settings: AlarmSettings): AlarmTarget {
  if (settings.topicArn !== undefined) return { kind: 'existing', topicArn: settings.topicArn };
  if (settings.email !== undefined) return { kind: 'create', email: settings.email };
  return settings.createTopic ? { kind: 'create' } : undefined;
}

/**
 * The demo of `npm start` with no arguments: a receiver on 127.0.0.1 that plays a healthy
 * PagerDuty, a flaky archive, a broken bus and a dead-letter channel, and a few sample events
 * that show a delivery, a retry, a dead letter and its `webhook.dlq` event.
 */
import type { AuditEvent } from '../shared/events/auditEvent.js';
import { packageFile } from '../shared/packageFile.js';
import { type Receiver, type ReceiverBehaviour, startReceiver } from './receivers.js';

/** The shipped demo config. */
const DEMO_CONFIG_PATH = packageFile('local/demo.yaml');

/** Variables the demo config needs; the routing key is fake and shows masking. */
const demoVariables = (receiver: Receiver): Record<string, string> => ({
  DEMO_RECEIVER: receiver.url,
  PD_ROUTING_KEY: 'demo-routing-key-0123456789',
});

/**
 * Routes by path: `/pagerduty` 202, `/flaky` 503 once per event then 202, `/broken` 500,
 * anything else 200.
 */
const startDemoReceiver = async (): Promise<Receiver> => {
  const seenByFlaky = new Set<string>();
  return startReceiver((_index, request): ReceiverBehaviour => {
    if (request.url.startsWith('/pagerduty')) {
      return { status: 202, body: '{"status":"success","message":"Event processed"}' };
    }
    if (request.url.startsWith('/flaky')) {
      const key = String(request.headers['idempotency-key'] ?? request.body);
      if (seenByFlaky.has(key)) return { status: 202 };
      seenByFlaky.add(key);
      return { status: 503, body: 'archive warming up, try again' };
    }
    if (request.url.startsWith('/broken')) {
      return { status: 500, body: '{"error":"bus unavailable"}' };
    }
    return { status: 200 };
  });
};

/** The sample events the demo pushes. */
const demoEvents = (now: Date = new Date()): AuditEvent[] => {
  const timestamp = now.toISOString();
  const stamp = now.getTime().toString(36);
  return [
    {
      audit_id: `ae_demo_${stamp}_1`,
      timestamp,
      event_kind: 'policy_block',
      severity: 'error',
      agent_id: 'support-bot',
      policy_result: { verdict: 'block', rule: 'pii-egress' },
    },
    {
      audit_id: `ae_demo_${stamp}_2`,
      timestamp,
      event_kind: 'detection',
      severity: 'warn',
      agent_id: 'billing-agent',
      detection: { type: 'prompt_injection', score: 0.93 },
    },
    {
      audit_id: `ae_demo_${stamp}_3`,
      timestamp,
      event_kind: 'tool_call',
      severity: 'info',
      agent_id: 'support-bot',
    },
  ];
};

export { DEMO_CONFIG_PATH, demoEvents, demoVariables, startDemoReceiver };

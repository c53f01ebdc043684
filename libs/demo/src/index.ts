export { startDemoApi, type DemoApi } from './demo-api.js';
export type { DemoApiOptions } from './demo-api.options.js';
export { DEMO_USERS, type DemoUser } from './demo-users.js';
export {
  startIdentityProvider,
  type DemoClient,
  type IdentityProvider,
  type IdentityProviderOptions,
  type ProviderEvent,
  type TokenEndpointFault,
  type TokenRequest,
  type TokenResponseHook,
} from './identity-provider.js';
export type { Todo } from './todo.store.js';
export { startDemo, type RunningDemo } from './start-demo.js';
export { startCalendarApi, type CalendarApi, type CalendarApiOptions } from './calendar-api.js';
export {
  CALENDAR_SCOPE,
  CALENDAR_USERS,
  startCalendarProvider,
  type CalendarProvider,
  type CalendarProviderOptions,
} from './calendar-provider.js';

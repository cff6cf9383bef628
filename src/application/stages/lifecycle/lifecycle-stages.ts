import { LifecycleStageName } from '../lifecycle-topics';
import { EventStage } from '../stage';
import { fulfillmentStage, FulfillmentStageDeps } from './fulfillment';
import { inventoryStage, InventoryStageDeps } from './inventory';
import { notificationStage, NotificationStageDeps } from './notification';
import { paymentStage, PaymentStageDeps } from './payment';
import { validationStage, ValidationStageDeps } from './validation';

export type LifecycleStageDeps = ValidationStageDeps & PaymentStageDeps & InventoryStageDeps & FulfillmentStageDeps & NotificationStageDeps;

/** The five stages of the lifecycle, by name, in its order: what `orderflow run --stages` chooses from. */
export const lifecycleStages = (deps: LifecycleStageDeps): Readonly<Record<LifecycleStageName, EventStage>> => ({
  validation: validationStage(deps),
  payment: paymentStage(deps),
  inventory: inventoryStage(deps),
  fulfillment: fulfillmentStage(deps),
  notification: notificationStage(deps),
});

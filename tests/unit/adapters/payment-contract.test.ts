import { InMemoryPaymentLedger } from '../../../src/adapters/memory/in-memory-payment-ledger';
import { describePaymentLedgerContract } from '../../contract/payment.contract';

describePaymentLedgerContract('InMemoryPaymentLedger', async () => ({ ledger: new InMemoryPaymentLedger() }));

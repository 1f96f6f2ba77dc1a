// Awaits a call that must be refused with a GatewayError, and returns that error for the test to check.

import { expect } from 'chai';
import { GatewayError } from '../../src/errors.ts';

export async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (err) {
    expect(err).to.be.instanceOf(GatewayError);
    return err as GatewayError;
  }
  throw new Error('expected the call to be refused');
}

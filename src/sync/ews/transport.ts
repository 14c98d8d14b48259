import { fetchTransport, type EwsAuth, type Transport } from './client.ts'
import { ntlmTransport } from './ntlm.ts'

/** The HTTP exchange an Exchange login needs: NTLM's handshake on a kept-alive socket, else one request per call. */
export const transportFor = (auth: EwsAuth): Transport => auth.kind === 'ntlm' ? ntlmTransport(auth) : fetchTransport(auth)

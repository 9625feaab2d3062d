//! The host side of the `push:handler/caller` interface: `promise`,
//! `respond`, `push` and the `promised` resource, bound to a request's
//! [`HostState`]. The checks and the sending are in `caller_state.rs`, the
//! resource in `promised.rs`.

use wasmtime::component::Resource;

use crate::push::generated::{CallerHost, HostPromised, TypesHost, WitError, WitPushPromise, WitResponse};
use crate::push::promised::PromisedStream;
use crate::runtime::state::HostState;

impl TypesHost for HostState {}

impl CallerHost for HostState {
    async fn promise(&mut self, p: WitPushPromise) -> wasmtime::Result<Result<Resource<PromisedStream>, WitError>> {
        match self.caller.promise_stream(p).await {
            Ok(stream) => Ok(Ok(self.table.push(stream)?)),
            Err(e) => Ok(Err(e)),
        }
    }

    fn respond(&mut self, r: WitResponse) -> wasmtime::Result<Result<(), WitError>> {
        Ok(self.caller.respond(r))
    }

    fn push(&mut self, promised: Resource<PromisedStream>, r: WitResponse) -> wasmtime::Result<Result<(), WitError>> {
        let result = self.table.delete(promised)?.push(r);
        match &result {
            Ok(()) => self.caller.report.pushed += 1,
            Err(WitError::Refused) => self.caller.report.refused += 1,
            Err(_) => {}
        }
        Ok(result)
    }
}

impl HostPromised for HostState {
    fn path(&mut self, this: Resource<PromisedStream>) -> wasmtime::Result<String> {
        Ok(self.table.get(&this)?.path.clone())
    }

    fn is_refused(&mut self, this: Resource<PromisedStream>) -> wasmtime::Result<bool> {
        Ok(self.table.get_mut(&this)?.is_refused())
    }

    fn drop(&mut self, this: Resource<PromisedStream>) -> wasmtime::Result<()> {
        self.table.delete(this)?;
        Ok(())
    }
}

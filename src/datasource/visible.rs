//! Hidden names: files and directories whose names start with `_` or `.` (`_SUCCESS`,
//! `_temporary/`, `_logs/`, `.part-00000.crc`, editor swap files) are not inputs when a
//! directory is listed, as Hadoop's input formats, Spark, Hive and DuckDB skip them. Listing
//! goes through the session's object stores, so [`Visible`] wraps a store and leaves such
//! names out of its listings below the listed prefix; a hidden file or directory named
//! explicitly is still read (its name is part of the prefix, or it is not listed at all).

use async_trait::async_trait;
use bytes::Bytes;
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore, PutMultipartOptions,
    PutOptions, PutPayload, PutResult, RenameOptions, Result,
};
use std::ops::Range;
use std::sync::Arc;

/// Whether a file or directory name is hidden from directory listings.
pub fn is_hidden_name(name: &str) -> bool {
    name.starts_with('_') || name.starts_with('.')
}

/// Whether `location`, listed under `prefix`, lies in or is a hidden name below the prefix.
fn hidden_below(prefix: Option<&Path>, location: &Path) -> bool {
    let skip = prefix.map_or(0, |p| p.parts().count());
    location.parts().skip(skip).any(|part| is_hidden_name(part.as_ref()))
}

/// An object store whose listings leave out hidden names ([`is_hidden_name`]) below the listed
/// prefix; every other call goes to the wrapped store unchanged.
#[derive(Debug)]
pub struct Visible {
    inner: Arc<dyn ObjectStore>,
    /// Whether `inner` is the local file system rooted at `/`, whose directories
    /// [`super::listing`] lists.
    local: bool,
}

/// How DataFusion's store for `file://` URLs (the local file system rooted at `/`) shows itself.
pub(crate) const LOCAL: &str = "LocalFileSystem(file:///)";

/// How that store shows itself through the wrapper.
const LOCAL_WRAPPED: &str = "Visible(LocalFileSystem(file:///))";

/// How [`Visible`] shows itself: its inner store's name in this wrapper, so a wrapped store
/// is recognised and never wrapped twice.
const NAME: &str = "Visible";

impl Visible {
    /// `store`, wrapped unless it already is.
    pub fn wrap(store: Arc<dyn ObjectStore>) -> Arc<dyn ObjectStore> {
        if Visible::is_wrapped(store.as_ref()) {
            return store;
        }
        let local = Visible::is_local(store.as_ref());
        Arc::new(Visible { inner: store, local })
    }

    /// The local directory a listing of `prefix` walks, when [`super::listing`] can list it:
    /// the store is local and the prefix has none of the characters a URL reads otherwise.
    fn local_dir(&self, prefix: Option<&Path>) -> Option<std::path::PathBuf> {
        let prefix = prefix?.as_ref();
        (self.local && !prefix.is_empty() && !prefix.contains(['%', '#', '?']))
            .then(|| std::path::PathBuf::from(format!("/{prefix}")))
    }

    /// Whether `store` is a [`Visible`].
    pub fn is_wrapped(store: &dyn ObjectStore) -> bool {
        store.to_string().starts_with(NAME)
    }

    /// How `store` shows itself, seen through the wrapper if it is one.
    pub fn inner_name(store: &dyn ObjectStore) -> String {
        let name = store.to_string();
        let inner = name.strip_prefix(NAME).and_then(|n| n.strip_prefix('(')).and_then(|n| n.strip_suffix(')'));
        inner.map_or_else(|| name.clone(), str::to_string)
    }

    /// Whether `store` is the local file system rooted at `/` ([`LOCAL`]), as it is or seen
    /// through the wrapper. Asked for every file a scan opens, so it compares how the store
    /// shows itself as it is written, without building the text (which took a tenth of the
    /// opening of small files, most of it waiting for the allocator's lock).
    pub fn is_local(store: &dyn ObjectStore) -> bool {
        use std::fmt::Write;
        /// Compares what is written with the rest of `0`, failing at the first difference.
        struct Expect<'a>(&'a str);
        impl Write for Expect<'_> {
            fn write_str(&mut self, s: &str) -> std::fmt::Result {
                self.0 = self.0.strip_prefix(s).ok_or(std::fmt::Error)?;
                Ok(())
            }
        }
        [LOCAL, LOCAL_WRAPPED].iter().any(|want| {
            let mut rest = Expect(want);
            write!(rest, "{store}").is_ok() && rest.0.is_empty()
        })
    }
}

impl std::fmt::Display for Visible {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{NAME}({})", self.inner)
    }
}

/// `listed` (a listing of `prefix`) without the hidden names below `prefix`.
fn visible(
    listed: BoxStream<'static, Result<ObjectMeta>>,
    prefix: Option<Path>,
) -> BoxStream<'static, Result<ObjectMeta>> {
    listed.try_filter(move |m| futures::future::ready(!hidden_below(prefix.as_ref(), &m.location))).boxed()
}

#[async_trait]
impl ObjectStore for Visible {
    async fn put_opts(&self, location: &Path, payload: PutPayload, opts: PutOptions) -> Result<PutResult> {
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(&self, location: &Path, opts: PutMultipartOptions) -> Result<Box<dyn MultipartUpload>> {
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    async fn get_ranges(&self, location: &Path, ranges: &[Range<u64>]) -> Result<Vec<Bytes>> {
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(&self, locations: BoxStream<'static, Result<Path>>) -> BoxStream<'static, Result<Path>> {
        self.inner.delete_stream(locations)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        let owned = prefix.cloned();
        let Some(dir) = self.local_dir(prefix) else {
            return visible(self.inner.list(prefix), owned);
        };
        // A local directory is walked by `listing` (on the blocking pool, as the store walks
        // it), or by the store where `listing` leaves it to the store.
        let inner = Arc::clone(&self.inner);
        futures::stream::once(async move {
            let listed = match tokio::runtime::Handle::try_current() {
                Ok(_) => tokio::task::spawn_blocking(move || super::listing::local_files(&dir)).await.ok().flatten(),
                Err(_) => super::listing::local_files(&dir),
            };
            match listed {
                Some(all) => futures::stream::iter(all.into_iter().map(Ok)).boxed(),
                None => visible(inner.list(owned.as_ref()), owned),
            }
        })
        .flatten()
        .boxed()
    }

    fn list_with_offset(&self, prefix: Option<&Path>, offset: &Path) -> BoxStream<'static, Result<ObjectMeta>> {
        visible(self.inner.list_with_offset(prefix, offset), prefix.cloned())
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        let mut got = self.inner.list_with_delimiter(prefix).await?;
        got.common_prefixes.retain(|p| !hidden_below(prefix, p));
        got.objects.retain(|m| !hidden_below(prefix, &m.location));
        Ok(got)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.inner.rename_opts(from, to, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[tokio::test]
    async fn listings_leave_out_hidden_names_below_the_prefix_only() {
        let mem: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
        for p in ["out/part-0", "out/_SUCCESS", "out/.part-0.crc", "out/_temporary/0/part-1", "out/dt=1/part-2", "_x/a"]
        {
            mem.put_opts(&Path::from(p), PutPayload::from_static(b"x"), PutOptions::default()).await.expect("put");
        }
        let store = Visible::wrap(Arc::clone(&mem));
        assert!(Visible::is_wrapped(Visible::wrap(Arc::clone(&store)).as_ref()), "wrapped once");
        assert_eq!(Visible::inner_name(store.as_ref()), mem.to_string());
        assert_eq!(Visible::inner_name(mem.as_ref()), mem.to_string());
        assert!(!Visible::is_local(mem.as_ref()) && !Visible::is_local(store.as_ref()));
        let local: Arc<dyn ObjectStore> = Arc::new(object_store::local::LocalFileSystem::new());
        assert_eq!(local.to_string(), LOCAL);
        assert_eq!(Visible::wrap(Arc::clone(&local)).to_string(), LOCAL_WRAPPED);
        assert!(Visible::is_local(local.as_ref()) && Visible::is_local(Visible::wrap(local).as_ref()));
        let elsewhere: Arc<dyn ObjectStore> =
            Arc::new(object_store::local::LocalFileSystem::new_with_prefix("/tmp").expect("store"));
        assert!(!Visible::is_local(elsewhere.as_ref()) && !Visible::is_local(Visible::wrap(elsewhere).as_ref()));
        let list = |prefix: &'static str| {
            let store = Arc::clone(&store);
            async move {
                let mut names: Vec<String> = store
                    .list(Some(&Path::from(prefix)))
                    .map_ok(|m| m.location.to_string())
                    .try_collect()
                    .await
                    .expect("list");
                names.sort();
                names
            }
        };
        assert_eq!(list("out").await, ["out/dt=1/part-2", "out/part-0"]);
        // Named explicitly, a hidden directory is read.
        assert_eq!(list("_x").await, ["_x/a"]);
        assert_eq!(list("out/_temporary").await, ["out/_temporary/0/part-1"]);
        let d = store.list_with_delimiter(Some(&Path::from("out"))).await.expect("list");
        let dirs: Vec<String> = d.common_prefixes.iter().map(|p| p.to_string()).collect();
        let files: Vec<String> = d.objects.iter().map(|m| m.location.to_string()).collect();
        assert_eq!((dirs, files), (vec!["out/dt=1".to_string()], vec!["out/part-0".to_string()]));
    }
}

//! The typed read builder: `Note::query().filter(...).order_by(...).with(...)`.
//! Every piece is checked by the compiler against the entity: fields of
//! another entity, values of the wrong type and relations the entity does
//! not have do not compile.

use std::marker::PhantomData;

use super::shape::{Cols, ColumnValues, EmbedShape, Grouped, JsonRows, RowShape};
use super::{
    AggregateFn, AggregateTerm, Direction, Embed, Filter, OrderKey, OrderTerm, Predicate, SelectNode,
};
use crate::field_ref::{Many, One};
use crate::permit::EntityHandle;
use crate::schema::{FieldMeta, RelationMeta};
use crate::{Entity, Field, FieldType, Relation};

/// Marks a query read at the top level (what `select` takes).
#[derive(Debug, Clone, Copy)]
pub struct Root;

/// Marks a query embedded in entity `P` through a relation of cardinality `C`.
#[derive(Debug)]
pub struct Via<P, C> {
    relation: &'static RelationMeta,
    marker: PhantomData<fn() -> (P, C)>,
}

impl<P, C> Clone for Via<P, C> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<P, C> Copy for Via<P, C> {}

/// A typed read of entity `E` returning rows of `R`.
#[derive(Debug)]
pub struct Query<E, R = E, V = Root> {
    pub(crate) node: SelectNode,
    via: V,
    marker: PhantomData<fn() -> (E, R)>,
}

/// Cloning a query needs nothing of its entity or row types (a derive
/// would ask `E: Clone`): the query is only its node.
impl<E, R, V: Clone> Clone for Query<E, R, V> {
    fn clone(&self) -> Self {
        Query { node: self.node.clone(), via: self.via.clone(), marker: PhantomData }
    }
}

impl<E: Entity> Query<E> {
    /// Every row of `E` the session may read, all fields.
    pub fn new() -> Self {
        Query { node: SelectNode::new(EntityHandle::of::<E>()), via: Root, marker: PhantomData }
    }
}

impl<E: Entity> Default for Query<E> {
    fn default() -> Self {
        Query::new()
    }
}

impl<E: Entity, R, V> Query<E, R, V> {
    fn retype<R2>(self) -> Query<E, R2, V> {
        Query { node: self.node, via: self.via, marker: PhantomData }
    }

    /// Only rows matching `filter` (several calls combine with AND).
    pub fn filter(mut self, filter: Filter<E>) -> Self {
        let predicate = filter.into_predicate();
        self.node.filter = Some(match self.node.filter.take() {
            None => predicate,
            Some(previous) => Predicate::And(vec![previous, predicate]),
        });
        self
    }

    /// Orders by a field (`Note::CREATED_AT.desc()`); later calls break ties.
    pub fn order_by(mut self, order: Order<E>) -> Self {
        self.node.order.push(order.term);
        self
    }

    /// At most `n` rows.
    pub fn limit(mut self, n: u64) -> Self {
        self.node.limit = Some(n);
        self
    }

    /// Skips the first `n` rows.
    pub fn offset(mut self, n: u64) -> Self {
        self.node.offset = Some(n);
        self
    }

    /// Embeds a relation in each row: `.with(Note::AUTHOR)` gives
    /// `(Note, Option<User>)`, `.with(User::NOTES)` gives `(User, Vec<Note>)`,
    /// and `.with(User::NOTES.query().limit(10))` shapes the embedded read.
    pub fn with<S: EmbedSpec<E>>(mut self, embed: S) -> Query<E, (R, S::Out), V> {
        self.node.embeds.push(embed.into_embed());
        self.retype()
    }

    /// The IR this query builds (for inspection and tests).
    pub fn node(&self) -> &SelectNode {
        &self.node
    }
}

impl<E: Entity, R: RowShape> Query<E, R, Root> {
    /// The rows this query returned, in the JSON shape the JSON API gives:
    /// objects keyed by logical names, embedded relations under their names,
    /// aggregates under their [names](Agg::named). Serializes with serde,
    /// so a handler can return it as it is.
    ///
    /// ```no_run
    /// # use trombase::prelude::*;
    /// # #[derive(Entity)] #[entity(table = "users")] #[relation(notes = resolves_to_many(Note, user_id -> id))]
    /// # pub struct User { pub id: DbId, pub email: String, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # #[derive(Entity)] #[entity(table = "notes")] #[relation(author = points_to(User, user_id -> id))]
    /// # pub struct Note { pub id: DbId, pub title: String, pub user_id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
    /// # async fn run(db: trombase::SessionDb) -> trombase::Result<()> {
    /// let query = Note::query().with(Note::AUTHOR).limit(20);
    /// let rows = db.select(query.clone()).await?;
    /// let json = serde_json::to_value(query.json(&rows)).unwrap();
    /// // [{"id": "...", "title": "...", ..., "author": {"id": "...", "email": "..."}}]
    /// # let _ = json; Ok(()) }
    /// ```
    pub fn json<'a>(&'a self, rows: &'a [R]) -> JsonRows<'a, R> {
        JsonRows { node: &self.node, rows }
    }
}

impl<E: Entity, V> Query<E, E, V> {
    /// Only these fields, as a tuple: `.columns((Note::ID, Note::TITLE))`
    /// gives rows `Cols((DbId, String))`. Call before `with`.
    pub fn columns<C: ColumnSet<E>>(mut self, columns: C) -> Query<E, Cols<C::Values>, V> {
        self.node.columns = columns.fields();
        self.retype()
    }

    /// Aggregates over the rows: `.aggregate((Note::count_rows(), Note::STARS.sum()))`
    /// gives one row `Grouped { group: (), values: (i64, Option<i64>) }`
    /// (the aggregates are listed on [`Agg`]).
    pub fn aggregate<A: AggregateSet<E>>(self, aggregates: A) -> Query<E, Grouped<(), A::Values>, V> {
        self.group_by(()).aggregate(aggregates)
    }

    /// Groups by these fields (which are also returned), to aggregate next.
    pub fn group_by<C: ColumnSet<E>>(mut self, fields: C) -> GroupedQuery<E, C::Values, V> {
        self.node.columns = fields.fields();
        GroupedQuery { query: self.retype() }
    }
}

/// A query grouped by some fields, waiting for its aggregates.
#[derive(Debug)]
pub struct GroupedQuery<E, G, V = Root> {
    query: Query<E, G, V>,
}

impl<E, G, V: Clone> Clone for GroupedQuery<E, G, V> {
    fn clone(&self) -> Self {
        GroupedQuery { query: self.query.clone() }
    }
}

impl<E: Entity, G: ColumnValues, V> GroupedQuery<E, G, V> {
    /// The aggregates of each group.
    pub fn aggregate<A: AggregateSet<E>>(mut self, aggregates: A) -> Query<E, Grouped<G, A::Values>, V> {
        self.query.node.aggregates = aggregates.terms();
        for (i, term) in self.query.node.aggregates.iter_mut().enumerate() {
            if term.alias.is_empty() {
                term.alias = format!("a{i}");
            }
        }
        self.query.retype()
    }
}

impl<E: Entity, G, A, V> Query<E, Grouped<G, A>, V> {
    /// Orders the groups by their `position`-th aggregate (0 for the first
    /// of the tuple given to `aggregate`): "top 10 users by note count" is
    /// `Note::query().group_by((Note::USER_ID,)).aggregate((Note::count_rows(),))
    /// .order_by_aggregate(0, Direction::Desc).limit(10)`. A position past
    /// the aggregates is a validation error when the query runs.
    pub fn order_by_aggregate(mut self, position: usize, direction: Direction) -> Self {
        self.node.order.push(OrderTerm { key: OrderKey::Aggregate(position), direction });
        self
    }
}

// ---- embedding ----

/// What `with` accepts on a query of `P`: a relation of `P`, or a query made
/// from one (`User::NOTES.query()...`).
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a relation of `{P}`",
    label = "not a relation of the queried entity"
)]
pub trait EmbedSpec<P> {
    /// What each row gets: `Option<T>` or `Vec<T>`.
    type Out: EmbedShape;
    #[doc(hidden)]
    fn into_embed(self) -> Embed;
}

impl<P: Entity, T: Entity, C> Relation<P, T, C> {
    /// A query of the related rows, to filter, order, limit or nest further.
    pub fn query(self) -> Query<T, T, Via<P, C>> {
        Query {
            node: SelectNode::new(EntityHandle::of::<T>()),
            via: Via { relation: self.meta(), marker: PhantomData },
            marker: PhantomData,
        }
    }
}

impl<P: Entity, T: Entity> EmbedSpec<P> for Relation<P, T, One> {
    type Out = Option<T>;
    fn into_embed(self) -> Embed {
        self.query().into_embed()
    }
}

impl<P: Entity, T: Entity> EmbedSpec<P> for Relation<P, T, Many> {
    type Out = Vec<T>;
    fn into_embed(self) -> Embed {
        self.query().into_embed()
    }
}

impl<P: Entity, T: Entity, R: RowShape> EmbedSpec<P> for Query<T, R, Via<P, One>> {
    type Out = Option<R>;
    fn into_embed(self) -> Embed {
        Embed::new(self.via.relation, self.node)
    }
}

impl<P: Entity, T: Entity, R: RowShape> EmbedSpec<P> for Query<T, R, Via<P, Many>> {
    type Out = Vec<R>;
    fn into_embed(self) -> Embed {
        Embed::new(self.via.relation, self.node)
    }
}

// ---- ordering ----

/// An ordering term of entity `E`: `Note::CREATED_AT.desc()`.
#[derive(Debug, Clone, Copy)]
pub struct Order<E> {
    term: OrderTerm,
    marker: PhantomData<fn() -> E>,
}

impl<E: Entity, T: FieldType, A> Field<E, T, A> {
    /// Smallest first.
    pub fn asc(self) -> Order<E> {
        Order {
            term: OrderTerm { key: OrderKey::Field(self.meta()), direction: Direction::Asc },
            marker: PhantomData,
        }
    }

    /// Largest first.
    pub fn desc(self) -> Order<E> {
        Order {
            term: OrderTerm { key: OrderKey::Field(self.meta()), direction: Direction::Desc },
            marker: PhantomData,
        }
    }
}

// ---- column sets ----

/// A tuple of fields of `E`: `(Note::ID, Note::TITLE)`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tuple of fields of `{E}`",
    label = "expected a tuple of `{E}`'s fields, like `({E}::ID,)`"
)]
pub trait ColumnSet<E> {
    /// The tuple of their Rust types.
    type Values: ColumnValues;
    #[doc(hidden)]
    fn fields(&self) -> Vec<&'static FieldMeta>;
}

macro_rules! column_set {
    ($($t:ident $a:ident $i:tt),*) => {
        impl<E: Entity, $($t: FieldType, $a),*> ColumnSet<E> for ($(Field<E, $t, $a>,)*) {
            type Values = ($($t,)*);
            fn fields(&self) -> Vec<&'static FieldMeta> {
                vec![$(self.$i.meta()),*]
            }
        }
    };
}

impl<E: Entity> ColumnSet<E> for () {
    type Values = ();
    fn fields(&self) -> Vec<&'static FieldMeta> {
        Vec::new()
    }
}

column_set!(A A0 0);
column_set!(A A0 0, B A1 1);
column_set!(A A0 0, B A1 1, C A2 2);
column_set!(A A0 0, B A1 1, C A2 2, D A3 3);
column_set!(A A0 0, B A1 1, C A2 2, D A3 3, F A4 4);
column_set!(A A0 0, B A1 1, C A2 2, D A3 3, F A4 4, G A5 5);
column_set!(A A0 0, B A1 1, C A2 2, D A3 3, F A4 4, G A5 5, H A6 6);
column_set!(A A0 0, B A1 1, C A2 2, D A3 3, F A4 4, G A5 5, H A6 6, I A7 7);

// ---- aggregates ----

/// An aggregate over entity `E` producing a `T`, for
/// [`Query::aggregate`] (over all the rows the session may read) and
/// [`GroupedQuery::aggregate`] (per group).
///
/// Counting rows is a function of the entity; every other aggregate is a
/// method of the field it reads:
///
/// | SQL | Typed | Result |
/// |---|---|---|
/// | `count(*)` | `Note::count_rows()` | `i64` |
/// | `count(field)` (non-null values) | `Note::BODY.count()` | `i64` |
/// | `count(DISTINCT field)` | `Note::USER_ID.count_distinct()` | `i64` |
/// | `sum(field)` (numbers) | `Note::STARS.sum()` | `Option<i64>` (`Option<f64>` for `f64`) |
/// | `avg(field)` (numbers) | `Note::STARS.avg()` | `Option<f64>` |
/// | `min(field)`, `max(field)` (ordered types) | `Note::CREATED_AT.min()`, `.max()` | `Option<T>` |
///
/// `sum`, `avg`, `min` and `max` are `None` over no rows. [`named`](Agg::named)
/// gives an aggregate its key in the JSON form of the rows. (The free
/// function [`count`] is `count_rows` under its older name.)
///
/// ```no_run
/// # use trombase::prelude::*;
/// # #[derive(Entity)] #[entity(table = "notes")]
/// # pub struct Note { pub id: DbId, pub body: Option<String>, pub stars: i32, pub user_id: DbId, pub created_at: DateTime<Utc>, pub updated_at: DateTime<Utc> }
/// # async fn run(db: trombase::SessionDb) -> trombase::Result<()> {
/// // Over every note the session may read: one row.
/// let totals = db
///     .select(Note::query().aggregate((
///         Note::count_rows(),
///         Note::BODY.count(),
///         Note::USER_ID.count_distinct(),
///         Note::STARS.sum(),
///         Note::STARS.avg(),
///         Note::CREATED_AT.max(),
///     )))
///     .await?;
/// let (notes, with_body, authors, stars, mean, latest) = totals[0].values;
/// # let _: (i64, i64, i64, Option<i64>, Option<f64>, Option<DateTime<Utc>>) = (notes, with_body, authors, stars, mean, latest);
///
/// // Per author, most notes first.
/// let per_user = db
///     .select(
///         Note::query()
///             .group_by((Note::USER_ID,))
///             .aggregate((Note::count_rows().named("notes"), Note::STARS.sum().named("stars")))
///             .order_by_aggregate(0, Direction::Desc),
///     )
///     .await?;
/// for row in &per_user {
///     let ((user_id,), (notes, stars)) = (row.group, row.values);
///     # let _ = (user_id, notes, stars);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Agg<E, T> {
    term: AggregateTerm,
    marker: PhantomData<fn() -> (E, T)>,
}

impl<E, T> Clone for Agg<E, T> {
    fn clone(&self) -> Self {
        Agg { term: self.term.clone(), marker: PhantomData }
    }
}

impl<E, T> Agg<E, T> {
    fn new(func: AggregateFn, field: Option<&'static FieldMeta>, distinct: bool) -> Self {
        Agg { term: AggregateTerm { alias: String::new(), func, field, distinct }, marker: PhantomData }
    }

    /// Names the aggregate's key in the JSON form of the rows
    /// ([`Query::json`]); unnamed aggregates are `a0`, `a1`, ... in order.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.term.alias = name.into();
        self
    }
}

impl<E: Entity> Agg<E, i64> {
    /// `count(*)`: the number of rows; what [`Entity::count_rows`] gives.
    pub fn count_rows() -> Self {
        Agg::new(AggregateFn::Count, None, false)
    }
}

/// `count(*)`: the number of rows. The same as [`Entity::count_rows`]
/// (`Note::count_rows()`), which names the entity; kept for existing code.
pub fn count<E: Entity>() -> Agg<E, i64> {
    Agg::count_rows()
}

/// Numbers that can be summed and averaged; `Sum` is the type of the sum.
pub trait Summable: FieldType {
    /// `i64` for integers, `f64` for `f64`.
    type Sum: FieldType;
}
impl Summable for i16 {
    type Sum = i64;
}
impl Summable for i32 {
    type Sum = i64;
}
impl Summable for i64 {
    type Sum = i64;
}
impl Summable for f64 {
    type Sum = f64;
}

/// Values with an order, for `min` and `max`.
pub trait Ordered: FieldType {}
impl Ordered for String {}
impl Ordered for i16 {}
impl Ordered for i32 {}
impl Ordered for i64 {}
impl Ordered for f64 {}
impl Ordered for crate::DbId {}
impl Ordered for chrono::DateTime<chrono::Utc> {}

impl<E: Entity, T: FieldType, A> Field<E, T, A> {
    /// `count(field)`: rows where the field is not null.
    pub fn count(self) -> Agg<E, i64> {
        Agg::new(AggregateFn::Count, Some(self.meta()), false)
    }

    /// `count(DISTINCT field)`.
    pub fn count_distinct(self) -> Agg<E, i64> {
        Agg::new(AggregateFn::Count, Some(self.meta()), true)
    }
}

impl<E: Entity, T: FieldType, A> Field<E, T, A>
where
    T::Inner: Summable,
{
    /// `sum(field)`; `None` over no rows.
    pub fn sum(self) -> Agg<E, Option<<T::Inner as Summable>::Sum>> {
        Agg::new(AggregateFn::Sum, Some(self.meta()), false)
    }

    /// `avg(field)`; `None` over no rows.
    pub fn avg(self) -> Agg<E, Option<f64>> {
        Agg::new(AggregateFn::Avg, Some(self.meta()), false)
    }
}

impl<E: Entity, T: FieldType, A> Field<E, T, A>
where
    T::Inner: Ordered,
{
    /// `min(field)`; `None` over no rows.
    pub fn min(self) -> Agg<E, Option<T::Inner>> {
        Agg::new(AggregateFn::Min, Some(self.meta()), false)
    }

    /// `max(field)`; `None` over no rows.
    pub fn max(self) -> Agg<E, Option<T::Inner>> {
        Agg::new(AggregateFn::Max, Some(self.meta()), false)
    }
}

/// A tuple of aggregates over `E`.
#[diagnostic::on_unimplemented(message = "`{Self}` is not a tuple of aggregates over `{E}`")]
pub trait AggregateSet<E> {
    /// The tuple of their result types.
    type Values: ColumnValues;
    #[doc(hidden)]
    fn terms(self) -> Vec<AggregateTerm>;
}

macro_rules! aggregate_set {
    ($($t:ident $i:tt),*) => {
        impl<E: Entity, $($t: FieldType),*> AggregateSet<E> for ($(Agg<E, $t>,)*) {
            type Values = ($($t,)*);
            fn terms(self) -> Vec<AggregateTerm> {
                vec![$(self.$i.term),*]
            }
        }
    };
}

aggregate_set!(A 0);
aggregate_set!(A 0, B 1);
aggregate_set!(A 0, B 1, C 2);
aggregate_set!(A 0, B 1, C 2, D 3);
aggregate_set!(A 0, B 1, C 2, D 3, F 4);
aggregate_set!(A 0, B 1, C 2, D 3, F 4, G 5);
aggregate_set!(A 0, B 1, C 2, D 3, F 4, G 5, H 6);
aggregate_set!(A 0, B 1, C 2, D 3, F 4, G 5, H 6, I 7);
